package graph

import (
	"bytes"
	"context"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"pacesetter/analytics"
)

// gqlgen resolves every field of every element of a list in goroutines, contexts and closures of their own:
// about 100 allocations per entry of a ranking, which made a ranking of 3,000 regions cost ten times the
// engine's work. Most answers need none of that machinery: a root field's answer is a tree of Go values
// whose fields are read straight off structs. plainWriter writes such an answer as JSON itself, with the
// same bytes gqlgen would write, and gqlgen keeps everything else (parsing, validation, limits, arguments,
// the root resolver, errors, the response). graph/server/plain_test.go holds it to gqlgen's output for
// every field of the schema.
//
// How it fits in: aroundField wraps the root field's resolver. When the resolver returns without an error it
// writes the answer; if anything in it is not plain (a field that has arguments, an interface, a value
// gqlgen would refuse such as NaN, a null in a non-null field), it gives up and returns the answer to gqlgen
// as if it had never looked. When it succeeds it hands gqlgen a copy of the answer with its lists emptied
// (cheap to marshal, and marshalled into nothing that is kept), and aroundRootField sends the JSON it wrote
// instead of gqlgen's.

type plainSlot struct {
	json  []byte
	taken bool // the root field's resolver has been seen (its nested fields are not for us)
}

type plainSlotKey struct{}

// reshapingResolvers are the resolvers the plain writer may call: each only reshapes the object it is given
// (a page of a ranking's entries, an aggregate's page info, a standing entry's move to the top n, worked out
// from the values it holds). Any other resolver may wait on a batch of its siblings (Region.value through
// dataloadgen), which only gqlgen's side-by-side resolution fills, so a selection with one is left to gqlgen.
var reshapingResolvers = map[string]bool{"Ranking.entries": true, "Aggregate.pageInfo": true, "StandingEntry.moveToTop": true,
	"Region.name": true, "Group.name": true, "Indicator.name": true, "Label.name": true}

type plainWriter struct {
	schema    *ast.Schema
	resolvers map[string]reflect.Value // "Type.field" (field in lower case) → the resolver's method
	named     map[string]namedFunc     // "Type.name" → the name(lang:) resolvers, called directly
	bindings  sync.Map                 // bindKey → binding
	sizes     sync.Map                 // root field name → bytes to set aside for its next answer
}

// maxSizeHint bounds what one answer sets aside before it is written.
const maxSizeHint = 8 << 20

func newPlainWriter(es graphql.ExecutableSchema, root ResolverRoot) *plainWriter {
	p := &plainWriter{schema: es.Schema(), resolvers: map[string]reflect.Value{}, named: map[string]namedFunc{}}
	rv := reflect.ValueOf(root)
	rt := reflect.TypeOf((*ResolverRoot)(nil)).Elem()
	for i := range rt.NumMethod() {
		typ := rt.Method(i).Name // Query, Ranking…: each returns that type's resolver
		res := rv.MethodByName(typ).Call(nil)[0]
		if f := namedResolver(res.Interface()); f != nil {
			p.named[typ+".name"] = f
		}
		for j := range res.NumMethod() {
			p.resolvers[typ+"."+strings.ToLower(res.Type().Method(j).Name)] = res.Method(j)
		}
	}
	return p
}

func (p *plainWriter) aroundRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	slot := &plainSlot{}
	m := next(context.WithValue(ctx, plainSlotKey{}, slot))
	if slot.json != nil {
		plainWritten.Add(1)
		return rawJSON(slot.json)
	}
	return m
}

// plainWritten counts the root fields the plain writer has answered.
var plainWritten atomic.Int64

func (p *plainWriter) aroundField(ctx context.Context, next graphql.Resolver) (any, error) {
	slot, _ := ctx.Value(plainSlotKey{}).(*plainSlot)
	if slot == nil || slot.taken {
		return next(ctx)
	}
	slot.taken = true
	fc := graphql.GetFieldContext(ctx)
	res, err := next(ctx)
	if err != nil || res == nil || fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil ||
		strings.HasPrefix(fc.Field.Name, "__") || len(fc.Field.Deferrables) > 0 {
		return res, err
	}
	w := plainBuf{op: graphql.GetOperationContext(ctx)}
	if n, ok := p.sizes.Load(fc.Field.Name); ok {
		w.Grow(n.(int)) // the last answer of this field's size: a long answer grows its buffer once, not a dozen times
	}
	if !p.value(ctx, &w, fc.Field.Definition.Type, p.schema.Types[fc.Field.Definition.Type.Name()], reflect.ValueOf(res), fc.Field.Selections) {
		return res, nil
	}
	slot.json = w.Bytes()
	p.sizes.Store(fc.Field.Name, min(w.Len()+w.Len()/8, maxSizeHint))
	return emptied(res), nil
}

type plainBuf struct {
	bytes.Buffer
	op      *graphql.OperationContext
	plans   map[planKey][]planField
	recent  [4]recentPlan
	next    int
	scratch [64]byte
}

type recentPlan struct {
	key  planKey
	plan []planField
	set  bool
}

// value writes v, of GraphQL type t (named def), selecting sel; false when it is not plain.
func (p *plainWriter) value(ctx context.Context, w *plainBuf, t *ast.Type, def *ast.Definition, v reflect.Value, sel ast.SelectionSet) bool {
	for v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice) && v.IsNil() {
		switch {
		case !t.NonNull:
			w.WriteString("null")
			return true
		case t.Elem != nil && v.IsValid() && v.Kind() == reflect.Slice:
			w.WriteString("[]") // gqlgen writes a nil slice in a non-null list as empty
			return true
		}
		return false // gqlgen reports a null in a non-null field: let it
	}
	if t.Elem != nil {
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return false
		}
		w.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				w.WriteByte(',')
			}
			if !p.value(ctx, w, t.Elem, def, v.Index(i), sel) {
				return false
			}
		}
		w.WriteByte(']')
		return true
	}
	if def == nil {
		return false
	}
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		for v.Kind() == reflect.Pointer {
			if v.IsNil() { // a pointer to a nil pointer: gqlgen would not have it either
				return false
			}
			v = v.Elem()
		}
		return scalar(ctx, w, t.NamedType, v)
	case ast.Object:
		return p.object(ctx, w, def, v, sel)
	}
	return false // interfaces and unions
}

func (p *plainWriter) object(ctx context.Context, w *plainBuf, def *ast.Definition, v reflect.Value, sel ast.SelectionSet) bool {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return false
	}
	fields, ok := p.plan(w, def, v.Type(), sel)
	if !ok {
		return false
	}
	w.WriteByte('{')
	for i := range fields {
		f := &fields[i]
		w.Write(f.key)
		if f.typename {
			quote(w, def.Name)
			continue
		}
		if f.named != nil && v.CanAddr() {
			if lang, ok := f.langArg(w); ok {
				name, err := f.named(ctx, v.Addr(), lang)
				if err != nil {
					return false
				}
				quote(w, name)
				continue
			}
		}
		fv, ok := p.field(ctx, w, f, v)
		if !ok || !p.value(ctx, w, f.Definition.Type, f.def, fv, f.Selections) {
			return false
		}
	}
	w.WriteByte('}')
	return true
}

// planField is one field an object's selection writes, with where its value comes from.
type planField struct {
	graphql.CollectedField
	key      []byte // `"alias":`, after a comma for all but the first
	typename bool
	def      *ast.Definition // of the field's named type
	resolver reflect.Value   // the resolver's method, when a resolver serves the field
	binding
	// The field's arguments, decoded once for every element of a list (argsDone), nil when they cannot be;
	// and, for the name(lang:) resolvers, the resolver called without reflection (named): a ranking of
	// 3,000 regions called Region.name 3,000 times through reflect.Value.Call, a third of its writing.
	args     []reflect.Value
	argsDone bool
	named    namedFunc
}

type planKey struct {
	sel *ast.Selection // the selection set, by its first element (nil for none)
	n   int
	def *ast.Definition
	t   reflect.Type
}

// plan collects an object's selection (fragments, @skip and @include applied by gqlgen's CollectFields) and
// binds each field once per request, not once per element of a list; false when a field cannot be written.
func (p *plainWriter) plan(w *plainBuf, def *ast.Definition, t reflect.Type, sel ast.SelectionSet) ([]planField, bool) {
	k := planKey{n: len(sel), def: def, t: t}
	if len(sel) > 0 {
		k.sel = &sel[0]
	}
	for i := range w.recent { // a list's elements ask for the same one or two plans over and over
		if w.recent[i].key == k && w.recent[i].set {
			return w.recent[i].plan, w.recent[i].plan != nil
		}
	}
	if pl, ok := w.plans[k]; ok {
		w.remember(k, pl)
		return pl, pl != nil
	}
	var out []planField
	for i, f := range graphql.CollectFields(w.op, sel, []string{def.Name}) {
		pf := planField{CollectedField: f, typename: f.Name == "__typename", binding: binding{method: -1}}
		var key plainBuf
		if i > 0 {
			key.WriteByte(',')
		}
		quote(&key, f.Alias)
		key.WriteByte(':')
		pf.key = key.Bytes()
		if !pf.typename {
			if len(f.Deferrables) > 0 || f.Definition == nil {
				out = nil
				break
			}
			pf.def = p.schema.Types[f.Definition.Type.Name()]
			if m, ok := p.resolvers[def.Name+"."+strings.ToLower(f.Name)]; ok {
				if !reshapingResolvers[def.Name+"."+f.Name] {
					out = nil // it may wait on a batch (dataloadgen): only gqlgen resolves fields side by side
					break
				}
				pf.resolver = m
				pf.named = p.named[def.Name+"."+strings.ToLower(f.Name)]
			} else if pf.binding = p.bind(t, boundName(def.Name, f.Name)); pf.index == nil && pf.method < 0 ||
				pf.index != nil && len(f.Definition.Arguments) > 0 {
				// A struct field cannot take the field's arguments (gqlgen.yml maps such a field to a method of
				// another name, listed in renamedFields).
				out = nil
				break
			}
		}
		out = append(out, pf)
	}
	if w.plans == nil {
		w.plans = map[planKey][]planField{}
	}
	w.plans[k] = out
	w.remember(k, out)
	return out, out != nil
}

func (w *plainBuf) remember(k planKey, pl []planField) {
	w.recent[w.next] = recentPlan{k, pl, true}
	w.next = (w.next + 1) % len(w.recent)
}

// field is the value of field f of object v (a struct): from a resolver, a method or a struct field, as
// gqlgen binds it; false when it cannot be had here (an argument of a kind not handled, an error).
func (p *plainWriter) field(ctx context.Context, w *plainBuf, f *planField, v reflect.Value) (reflect.Value, bool) {
	switch {
	case f.index != nil:
		return v.FieldByIndex(f.index), true
	case !v.CanAddr():
		return reflect.Value{}, false
	case f.resolver.IsValid():
		return call(ctx, w, f.resolver, []reflect.Value{v.Addr()}, f)
	}
	m := v.Addr().Method(f.method)
	if m.Type().NumIn() > 0 && m.Type().In(0) == ctxType {
		return call(ctx, w, m, nil, f)
	}
	return call(nil, w, m, nil, f)
}

// namedFunc is a name(lang:) resolver as a plain function of the object (a pointer to its struct).
type namedFunc func(ctx context.Context, obj reflect.Value, lang *analytics.Lang) (string, error)

// namedResolver is the name(lang:) method of resolver res (a Region, Group or Indicator resolver) as a
// namedFunc, called directly: a reflect method value's Interface() still calls through reflection.
func namedResolver(res any) namedFunc {
	switch r := res.(type) {
	case interface {
		Name(context.Context, *analytics.Region, *analytics.Lang) (string, error)
	}:
		return func(ctx context.Context, obj reflect.Value, lang *analytics.Lang) (string, error) {
			return r.Name(ctx, obj.Interface().(*analytics.Region), lang)
		}
	case interface {
		Name(context.Context, *analytics.Group, *analytics.Lang) (string, error)
	}:
		return func(ctx context.Context, obj reflect.Value, lang *analytics.Lang) (string, error) {
			return r.Name(ctx, obj.Interface().(*analytics.Group), lang)
		}
	case interface {
		Name(context.Context, *analytics.Indicator, *analytics.Lang) (string, error)
	}:
		return func(ctx context.Context, obj reflect.Value, lang *analytics.Lang) (string, error) {
			return r.Name(ctx, obj.Interface().(*analytics.Indicator), lang)
		}
	}
	return nil
}

// langArg is the lang argument of a name(lang:) field, decoded once for the request.
func (f *planField) langArg(w *plainBuf) (*analytics.Lang, bool) {
	args, ok := f.decoded(w, f.resolver.Type(), 2)
	if !ok || len(args) != 1 {
		return nil, false
	}
	lang, ok := args[0].Interface().(*analytics.Lang)
	return lang, ok
}

// decoded is f's arguments decoded for a function of type mt whose first lead parameters are not
// arguments, in the order the schema gives them, once for every element of a list; false when one cannot
// be (a kind not handled, or more arguments than parameters).
func (f *planField) decoded(w *plainBuf, mt reflect.Type, lead int) ([]reflect.Value, bool) {
	if f.argsDone {
		return f.args, f.args != nil
	}
	f.argsDone = true
	raw := f.ArgumentMap(w.op.Variables)
	args := make([]reflect.Value, 0, len(f.Definition.Arguments))
	for _, a := range f.Definition.Arguments {
		if lead+len(args) >= mt.NumIn() {
			return nil, false
		}
		arg, ok := decodeArg(mt.In(lead+len(args)), raw[a.Name])
		if !ok {
			return nil, false
		}
		args = append(args, arg)
	}
	f.args = args
	return args, true
}

var (
	ctxType   = reflect.TypeOf((*context.Context)(nil)).Elem()
	errorType = reflect.TypeOf((*error)(nil)).Elem()
)

// call calls a resolver or method with ctx (when not nil), the leading values and f's arguments decoded in
// the order the schema gives them; false when an argument cannot be decoded or the call returns an error.
func call(ctx context.Context, w *plainBuf, m reflect.Value, lead []reflect.Value, f *planField) (reflect.Value, bool) {
	mt := m.Type()
	in := make([]reflect.Value, 0, mt.NumIn())
	if ctx != nil {
		in = append(in, reflect.ValueOf(ctx))
	}
	in = append(in, lead...)
	args, ok := f.decoded(w, mt, len(in))
	if !ok {
		return reflect.Value{}, false
	}
	in = append(in, args...)
	if len(in) != mt.NumIn() || mt.IsVariadic() {
		return reflect.Value{}, false
	}
	out := m.Call(in)
	switch {
	case len(out) == 1:
		return out[0], true
	case len(out) == 2 && mt.Out(1) == errorType:
		return out[0], out[1].IsNil()
	}
	return reflect.Value{}, false
}

// decodeArg turns an argument's value, as the document and variables give it, into a value of type t, as
// gqlgen's own unmarshallers do; false for a kind not handled here.
func decodeArg(t reflect.Type, raw any) (reflect.Value, bool) {
	if t.Kind() == reflect.Pointer {
		if raw == nil {
			return reflect.Zero(t), true
		}
		if u, ok := reflect.New(t.Elem()).Interface().(graphql.Unmarshaler); ok {
			if u.UnmarshalGQL(raw) != nil {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(u), true
		}
		e, ok := decodeArg(t.Elem(), raw)
		if !ok {
			return reflect.Value{}, false
		}
		ptr := reflect.New(t.Elem())
		ptr.Elem().Set(e)
		return ptr, true
	}
	if u, ok := reflect.New(t).Interface().(graphql.Unmarshaler); ok {
		if raw == nil || u.UnmarshalGQL(raw) != nil {
			return reflect.Value{}, false
		}
		return reflect.ValueOf(u).Elem(), true
	}
	v := reflect.New(t).Elem()
	var err error
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		var n int64
		n, err = graphql.UnmarshalInt64(raw)
		v.SetInt(n)
	case reflect.Float64:
		var x float64
		x, err = graphql.UnmarshalFloat(raw)
		v.SetFloat(x)
	case reflect.String:
		var s string
		s, err = graphql.UnmarshalString(raw)
		v.SetString(s)
	case reflect.Bool:
		var b bool
		b, err = graphql.UnmarshalBoolean(raw)
		v.SetBool(b)
	case reflect.Slice:
		if raw == nil {
			return reflect.Zero(t), true
		}
		list, isList := raw.([]any)
		if !isList {
			list = []any{raw} // a single value where a list is expected is a list of one
		}
		v = reflect.MakeSlice(t, len(list), len(list))
		for i, x := range list {
			e, ok := decodeArg(t.Elem(), x)
			if !ok {
				return reflect.Value{}, false
			}
			v.Index(i).Set(e)
		}
	default:
		return reflect.Value{}, false
	}
	return v, err == nil
}

type bindKey struct {
	t     reflect.Type
	field string
}

// binding is where gqlgen finds a GraphQL field's value in a Go struct: a method or a struct field.
type binding struct {
	method int   // index in the pointer type's method set; −1 for none
	index  []int // the struct field, when there is no method
}

// bind finds what gqlgen binds a GraphQL field to: a method of that name, else a struct field, by name
// ignoring case and underscores.
// renamedFields are the fields gqlgen.yml binds to a method of another name (fieldName:), as "Type.field" →
// the method: a field with arguments whose struct field holds the whole list (Composite.entries(first:,
// offset:) → Composite.Page). Without it the plain writer would give every composite with entries back to
// gqlgen, whose field-per-goroutine resolution took 1–5 s and a CPU-second for 1,000 regions × 50
// indicators. TestRenamedFieldsMatchConfig holds it to gqlgen.yml.
var renamedFields = map[string]string{"Composite.entries": "Page"}

// boundName is the Go name gqlgen binds field of type typ to.
func boundName(typ, field string) string {
	if m, ok := renamedFields[typ+"."+field]; ok {
		return m
	}
	return field
}

func (p *plainWriter) bind(t reflect.Type, name string) binding {
	k := bindKey{t, name}
	if b, ok := p.bindings.Load(k); ok {
		return b.(binding)
	}
	want := strings.ReplaceAll(name, "_", "")
	b := binding{method: -1}
	pt := reflect.PointerTo(t)
	for i := range pt.NumMethod() {
		if strings.EqualFold(pt.Method(i).Name, want) {
			b.method = i
		}
	}
	if b.method < 0 {
		for _, f := range reflect.VisibleFields(t) {
			if f.IsExported() && !f.Anonymous && strings.EqualFold(f.Name, want) {
				b.index = f.Index
				break
			}
		}
	}
	p.bindings.Store(k, b)
	return b
}

// scalar writes a scalar or enum value as gqlgen's own marshallers do.
func scalar(ctx context.Context, w *plainBuf, name string, v reflect.Value) bool {
	if t := v.Type(); t.NumMethod() > 0 { // only named types with methods can marshal themselves
		if t.Implements(marshalerType) {
			v.Interface().(graphql.Marshaler).MarshalGQL(w)
			return true
		}
		if t.Implements(ctxMarshalerType) {
			return v.Interface().(graphql.ContextMarshaler).MarshalGQLContext(ctx, w) == nil
		}
	}
	switch name {
	case "Int":
		switch v.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			w.Write(strconv.AppendInt(w.scratch[:0], v.Int(), 10))
			return true
		}
	case "Float":
		if v.Kind() == reflect.Float64 || v.Kind() == reflect.Float32 {
			f := v.Float()
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return false // gqlgen refuses these with an error: let it
			}
			w.Write(strconv.AppendFloat(w.scratch[:0], f, 'g', -1, 64)) // what gqlgen's fmt "%g" writes
			return true
		}
	case "String", "ID":
		if v.Kind() == reflect.String {
			quote(w, v.String())
			return true
		}
	case "Boolean":
		if v.Kind() == reflect.Bool {
			w.WriteString(strconv.FormatBool(v.Bool()))
			return true
		}
	case "Time":
		if t, ok := v.Interface().(time.Time); ok {
			graphql.MarshalTime(t).MarshalGQL(w)
			return true
		}
	}
	if v.Kind() == reflect.String { // an enum bound to a plain string type
		quote(w, v.String())
		return true
	}
	return false
}

var (
	marshalerType    = reflect.TypeOf((*graphql.Marshaler)(nil)).Elem()
	ctxMarshalerType = reflect.TypeOf((*graphql.ContextMarshaler)(nil)).Elem()
)

// quote writes s as a JSON string, as gqlgen does: by gqlgen itself when s has anything to escape.
func quote(w *plainBuf, s string) {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '\\' || c == '"' {
			graphql.MarshalString(s).MarshalGQL(w)
			return
		}
	}
	w.WriteByte('"')
	w.WriteString(s)
	w.WriteByte('"')
}

// rawJSON is an answer already written.
type rawJSON []byte

func (r rawJSON) MarshalGQL(w io.Writer) { _, _ = w.Write(r) }

// emptied is a shallow copy of an answer with its lists emptied: what gqlgen marshals in place of an answer
// written here, so that its work is small and its non-null fields are still there.
func emptied(res any) any {
	v := reflect.ValueOf(res)
	switch {
	case v.Kind() == reflect.Slice:
		return reflect.MakeSlice(v.Type(), 0, 0).Interface()
	case v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct:
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(v.Elem())
		for i := range c.Elem().NumField() {
			if f := c.Elem().Field(i); f.Kind() == reflect.Slice && f.CanSet() {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
		}
		return c.Interface()
	}
	return res
}
