// Command nfd-engine runs NFD v0.19.0's own rule engine over a NodeFeature dump, for
// benchmarks/bench_fleet.py: the Go side of "validate a spec against every node".
//
// Usage: nfd-engine SPEC.yaml DUMP.json   (DUMP: `kubectl get nodefeatures -A -o json`)
//
// It reads the spec as NFD's client does (sigs.k8s.io/yaml into the image-compatibility
// v1alpha1 Spec), decodes the dump with encoding/json, and evaluates each node exactly as
// pkg/client-nfd/compat/node-validator's Execute does: every rule of every set through
// nodefeaturerule.ExecuteGroupRule, the rule's vars inserted as the "rule.matched"
// back-reference feature after each rule. A node is compatible when one set matches in
// full. It prints "<compatible> of <nodes>".
package main

import (
	"encoding/json"
	"fmt"
	"os"

	compatv1alpha1 "sigs.k8s.io/node-feature-discovery/api/image-compatibility/v1alpha1"
	nfdv1alpha1 "sigs.k8s.io/node-feature-discovery/api/nfd/v1alpha1"
	"sigs.k8s.io/node-feature-discovery/pkg/apis/nfd/nodefeaturerule"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: nfd-engine SPEC.yaml DUMP.json")
		os.Exit(2)
	}
	spec, err := readSpec(os.Args[1])
	if err != nil {
		fail(err)
	}
	dump, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail(err)
	}
	var list struct {
		Items []nfdv1alpha1.NodeFeature `json:"items"`
	}
	if err := json.Unmarshal(dump, &list); err != nil {
		fail(err)
	}
	compatible := 0
	for i := range list.Items {
		ok, err := nodeCompatible(spec, &list.Items[i].Spec.Features)
		if err != nil {
			fail(err)
		}
		if ok {
			compatible++
		}
	}
	fmt.Printf("%d of %d\n", compatible, len(list.Items))
}

func readSpec(path string) (*compatv1alpha1.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	spec := compatv1alpha1.Spec{}
	return &spec, yaml.Unmarshal(data, &spec)
}

// nodeCompatible follows node-validator.go's Execute for one node's features.
func nodeCompatible(spec *compatv1alpha1.Spec, features *nfdv1alpha1.Features) (bool, error) {
	any := false
	for _, c := range spec.Compatibilties {
		all := true
		for _, r := range c.Rules {
			out, err := nodefeaturerule.ExecuteGroupRule(&r, features, false)
			if err != nil {
				return false, err
			}
			all = all && out.MatchStatus.IsMatch
			features.InsertAttributeFeatures(nfdv1alpha1.RuleBackrefDomain,
				nfdv1alpha1.RuleBackrefFeature, out.Vars)
		}
		any = any || all
	}
	return any, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "nfd-engine:", err)
	os.Exit(1)
}
