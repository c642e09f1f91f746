package query

import (
	"encoding/json"
	"fmt"
)

// keyOf names a plan in an answer's cache key: the kind of query, then every field of the plan's resolved
// request (defaults applied) in a fixed order. JSON keeps apart what must differ: a nil list from an empty
// one, a nil year from year 0, an absent scope from an empty one. Every answer's key is made here.
func keyOf(kind string, plan any) string {
	b, err := json.Marshal(plan)
	if err != nil { // a NaN the plan's checks let through: a key of its own, never one shared by mistake
		return fmt.Sprintf("%s|%#v", kind, plan)
	}
	return kind + "|" + string(b)
}
