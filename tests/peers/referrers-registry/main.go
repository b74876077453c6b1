// Command referrers-registry serves go-containerregistry's in-memory registry
// (pkg/registry) with its native OCI Referrers API switched on:
// GET /v2/<name>/referrers/<digest>.
//
// Why this and not `crane registry serve` or CNCF distribution: crane's serve
// command builds the same registry without WithReferrersSupport, so it answers
// 404 METHOD_UNKNOWN for /referrers/, and no tagged distribution v3 (v3.0.0 to
// v3.1.2) has a referrers endpoint at all. This file only chooses the options;
// everything on the wire is go-containerregistry's.
//
// Usage: referrers-registry --address 127.0.0.1:PORT
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalln(err)
	}
	log.Printf("serving on %s", listener.Addr())
	server := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: registry.New(
			registry.WithReferrersSupport(true),
			registry.Logger(log.New(io.Discard, "", 0)),
		),
	}
	log.Fatalln(server.Serve(listener))
}
