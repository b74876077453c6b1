// Package nv is NFD v0.19.0's node validator (pkg/client-nfd/compat/node-validator:
// node-validator.go and status.go, copied beside this file at build time by
// scripts/install-peers, never into the repository) plus ExecuteOn, its Execute loop on
// given features instead of this host's.
package nv

import (
	"slices"

	compatv1alpha1 "sigs.k8s.io/node-feature-discovery/api/image-compatibility/v1alpha1"
	nfdv1alpha1 "sigs.k8s.io/node-feature-discovery/api/nfd/v1alpha1"
	"sigs.k8s.io/node-feature-discovery/pkg/apis/nfd/nodefeaturerule"
)

// ExecuteOn is Execute's loop (node-validator.go, v0.19.0) on given spec and features.
func ExecuteOn(spec *compatv1alpha1.Spec, features *nfdv1alpha1.Features, tags []string) ([]*CompatibilityStatus, error) {
	nv := nodeValidator{args: Args{Tags: tags}}
	compats := []*CompatibilityStatus{}
	for _, c := range spec.Compatibilties {
		if len(nv.args.Tags) > 0 && !slices.Contains(nv.args.Tags, c.Tag) {
			continue
		}
		compat := newCompatibilityStatus(&c)
		for _, r := range c.Rules {
			ruleOut, err := nodefeaturerule.ExecuteGroupRule(&r, features, false)
			if err != nil {
				return nil, err
			}
			compat.Rules = append(compat.Rules, nv.evaluateRuleStatus(&r, ruleOut.MatchStatus))
			features.InsertAttributeFeatures(nfdv1alpha1.RuleBackrefDomain, nfdv1alpha1.RuleBackrefFeature, ruleOut.Vars)
		}
		compats = append(compats, &compat)
	}
	return compats, nil
}
