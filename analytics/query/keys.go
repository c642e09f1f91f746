package query

import "encoding/json"

// keyOf names a plan in an answer's cache key: the kind of query, then every field of the plan's resolved
// request (defaults applied) in a fixed order. JSON keeps apart what must differ: a nil list from an empty
// one, a nil year from year 0, an absent scope from an empty one. Every answer's key is made here.
//
// A plan JSON cannot encode (an infinite goalpost or target, which only the Go API can pass: GraphQL carries
// none) has no key, "": cached computes its answer and keeps none, rather than keep it under a key no later
// request can build again.
func keyOf(kind string, plan any) string {
	b, err := json.Marshal(plan)
	if err != nil {
		return ""
	}
	return kind + "|" + string(b)
}
