package graph

import (
	"maps"
	"os"
	"testing"

	"github.com/goccy/go-yaml"
)

// renamedFields must say what gqlgen.yml says: a fieldName: there that the plain writer does not know makes
// it give that field's answers back to gqlgen (slow, and unnoticed), one it knows that gqlgen.yml dropped
// would bind the field to the wrong method.
func TestRenamedFieldsMatchConfig(t *testing.T) {
	raw, err := os.ReadFile("../gqlgen.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Models map[string]struct {
			Fields map[string]struct {
				FieldName string `yaml:"fieldName"`
			} `yaml:"fields"`
		} `yaml:"models"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for typ, m := range cfg.Models {
		for field, f := range m.Fields {
			if f.FieldName != "" {
				want[typ+"."+field] = f.FieldName
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("gqlgen.yml renames no field: the test reads it wrongly")
	}
	if !maps.Equal(want, renamedFields) {
		t.Errorf("renamedFields = %v, gqlgen.yml's fieldName entries are %v", renamedFields, want)
	}
}
