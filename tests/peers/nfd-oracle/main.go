// nfd-oracle: the oracle of tests/match/oracle/generate.py on NFD v0.19.0's engine. A JSON
// array of {name, spec, features, tags} on stdin, {name, exit, report, error} on stdout.
package main

import (
	"encoding/json"
	"os"

	compatv1alpha1 "sigs.k8s.io/node-feature-discovery/api/image-compatibility/v1alpha1"
	nfdv1alpha1 "sigs.k8s.io/node-feature-discovery/api/nfd/v1alpha1"
	"sigs.k8s.io/yaml"

	"nfd-client.test/peers/nfd/nv"
)

type question struct {
	Name     string          `json:"name"`
	Spec     json.RawMessage `json:"spec"`
	Features json.RawMessage `json:"features"`
	Tags     []string        `json:"tags"`
}

type answer struct {
	Name   string          `json:"name"`
	Exit   int             `json:"exit"`
	Report json.RawMessage `json:"report"`
	Error  *string         `json:"error"`
}

func main() {
	var qs []question
	if err := json.NewDecoder(os.Stdin).Decode(&qs); err != nil {
		panic(err)
	}
	out := []answer{}
	for _, q := range qs {
		a := answer{Name: q.Name, Report: json.RawMessage("null")}
		spec := compatv1alpha1.Spec{}
		features := nfdv1alpha1.NewFeatures()
		// The spec as NFD's artifact client reads an attached one (sigs.k8s.io/yaml); the
		// features as JSON (go-yaml refuses the surrogate-pair escapes Python writes).
		err := yaml.Unmarshal(q.Spec, &spec)
		if err == nil {
			err = json.Unmarshal(q.Features, features)
		}
		if err == nil {
			// A document's null maps: Execute's back-references write into Attributes.
			if features.Flags == nil {
				features.Flags = map[string]nfdv1alpha1.FlagFeatureSet{}
			}
			if features.Attributes == nil {
				features.Attributes = map[string]nfdv1alpha1.AttributeFeatureSet{}
			}
			if features.Instances == nil {
				features.Instances = map[string]nfdv1alpha1.InstanceFeatureSet{}
			}
			var report []*nv.CompatibilityStatus
			report, err = nv.ExecuteOn(&spec, features, q.Tags)
			if err == nil {
				b, _ := json.Marshal(report)
				a.Report = b
				a.Exit = 1
				for _, c := range report {
					all := true
					for _, r := range c.Rules {
						all = all && r.IsMatch
					}
					if all {
						a.Exit = 0
					}
				}
			}
		}
		if err != nil {
			msg := err.Error()
			a.Exit, a.Error = 2, &msg
		}
		out = append(out, a)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
