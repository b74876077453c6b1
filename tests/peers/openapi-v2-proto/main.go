// openapi-v2-proto: an OpenAPI v2 (Swagger) JSON document on stdin, the protobuf form an API
// server serves at /openapi/v2 (gnostic's openapi_v2.Document, what kubectl reads) on stdout.
package main

import (
	"io"
	"os"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

func main() {
	data, err := io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	if err != nil {
		panic(err)
	}
	doc, err := openapi_v2.ParseDocument(data)
	if err != nil {
		panic(err)
	}
	out, err := proto.Marshal(doc)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(out)
}
