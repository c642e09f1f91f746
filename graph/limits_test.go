package graph

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// missingCostRules names, sorted, the fields of schema that must have a cost rule in rules and have none:
// every root field of Query and every list field of an object type, outside introspection.
func missingCostRules(schema *ast.Schema, rules map[string]costRule) []string {
	var missing []string
	for name, def := range schema.Types {
		if strings.HasPrefix(name, "__") || def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			key := name + "." + f.Name
			if (def == schema.Query || f.Type.Elem != nil) && rules[key] == nil {
				missing = append(missing, key)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

// The cost of a field nobody priced is a guess (defaultListLength elements for a list, 1 for a query): every
// root field and list field must have a rule, so that one the schema gains is priced on purpose.
func TestEveryFieldHasACostRule(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for _, key := range missingCostRules(schema, costRules) {
		t.Errorf("%s has no cost rule: add one to costRules (limits.go)", key)
	}
	// A rule for a field the schema no longer has is a leftover.
	for key := range costRules {
		typ, field, _ := strings.Cut(key, ".")
		if def := schema.Types[typ]; def == nil || def.Fields.ForName(field) == nil {
			t.Errorf("costRules prices %s, which the schema does not have", key)
		}
	}
}

// The check above fails when a rule is missing, and names the field.
func TestMissingCostRuleIsReported(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for _, key := range []string{"Query.ranking", "Ranking.entries", "Query.dataset"} {
		rules := maps.Clone(costRules)
		if rules[key] == nil {
			t.Fatalf("costRules has no rule for %s", key)
		}
		delete(rules, key)
		if got := missingCostRules(schema, rules); !slices.Equal(got, []string{key}) {
			t.Errorf("without the rule for %s the check reports %v", key, got)
		}
	}
}
