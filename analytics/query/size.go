package query

import (
	"reflect"
	"unsafe"

	"pacesetter/analytics"
)

// The answer cache is bounded in bytes, so each answer is charged what it really keeps alive: every
// struct, slice, string and number reachable from it, each allocation rounded up as Go's allocator rounds
// it. A fixed estimate per type (the cache's first version) charged a composite of 1,000 regions × 50
// indicators 4 KiB for about 8 MiB, and 200 of them took 1.8 GB under a "64 MiB" cache.
//
// The size is measured by walking the answer (reflection), so a field added to an answer type is counted
// without anyone remembering to: a hand formula per type would drift with every new field.

// answerTypes are the answer types the cache keeps: the ones whose measure is checked against the
// allocator (TestAnswerBytesMatchHeap, which also fails for an Engine method returning a type missing
// here). An answer of another type is computed and not kept, so an unmeasured type cannot grow memory.
var answerTypes = map[reflect.Type]bool{}

func init() {
	for _, v := range []any{
		(*analytics.Ranking)(nil), (*analytics.Standings)(nil), (*analytics.Trend)(nil),
		(*analytics.Comparison)(nil), (*analytics.Aggregate)(nil),
		(*analytics.Composite)(nil), (*analytics.Robustness)(nil), (*analytics.CompositeHistory)(nil),
		([]*analytics.TargetResult)(nil), (*analytics.Threshold)(nil),
		(*float64)(nil), // a ranking's weighted mean: every entry's vsWeightedMean asks for it
	} {
		answerTypes[reflect.TypeOf(v)] = true
	}
	for s := range 256 { // every FlagSet (Computed is bit 7)
		if l := analytics.FlagSet(s).Letters(); cap(l) > 0 {
			sharedArrays[unsafe.Pointer(unsafe.SliceData(l))] = true
		}
	}
}

// sharedTypes are the catalog's objects: answers point at them, the snapshot keeps them, so an answer
// holding one keeps nothing more alive.
var sharedTypes = map[reflect.Type]bool{
	reflect.TypeFor[analytics.Region]():    true,
	reflect.TypeFor[analytics.Group]():     true,
	reflect.TypeFor[analytics.Indicator](): true,
	reflect.TypeFor[analytics.Scheme]():    true,
	reflect.TypeFor[analytics.Target]():    true,
}

// sharedArrays are package-level slices answers share (FlagSet.Letters).
var sharedArrays = map[unsafe.Pointer]bool{}

// answerBytes is what v keeps in memory, and whether its type has a measure (is in answerTypes). The walk
// stops once it has counted more than limit bytes, and returns what it has counted: an answer over the
// cache's limit is not kept, and walking the rest of it is wasted (a composite of 50 indicators × 3,000
// regions with its breakdowns, 20 MB against a limit of 16, took 120 ms to walk, more than it took to compute).
func answerBytes(v any, limit int64) (int64, bool) {
	t := reflect.TypeOf(v)
	if !answerTypes[t] {
		return 0, false
	}
	w := sizer{seen: map[unsafe.Pointer]bool{}, limit: limit}
	w.value(reflect.ValueOf(v))
	return w.n, true
}

type sizer struct {
	n     int64
	limit int64                   // stop counting past it
	seen  map[unsafe.Pointer]bool // allocations counted already: two pointers to one struct count it once
}

// alloc charges one allocation of n bytes holding pointers or not, once per address.
func (w *sizer) alloc(p unsafe.Pointer, n uintptr, pointers bool) bool {
	if p == nil || n == 0 || w.seen[p] {
		return false
	}
	w.seen[p] = true
	w.n += int64(allocSize(n, pointers))
	return true
}

// value counts what v points to (v's own bytes are its container's).
func (w *sizer) value(v reflect.Value) {
	if w.n > w.limit {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		et := v.Type().Elem()
		if sharedTypes[et] {
			return
		}
		if size := et.Size(); size > 0 && size < 16 && !hasPointers(et) {
			// A number of its own (an entry's *float64): most of what a composite holds, and too small for
			// its sharing to matter, so not remembered in seen, whose look-ups of 600,000 of them were most
			// of the walk's time.
			w.n += int64(allocSize(size, false))
			return
		}
		if w.alloc(v.UnsafePointer(), et.Size(), hasPointers(et)) {
			w.value(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			w.value(v.Field(i))
		}
	case reflect.Array:
		if hasPointers(v.Type().Elem()) {
			for i := range v.Len() {
				w.value(v.Index(i))
			}
		}
	case reflect.Slice:
		if v.Cap() == 0 {
			return
		}
		p := v.UnsafePointer()
		if sharedArrays[p] {
			return
		}
		et := v.Type().Elem()
		if w.alloc(p, uintptr(v.Cap())*et.Size(), hasPointers(et)) && hasPointers(et) {
			for i := range v.Len() {
				w.value(v.Index(i))
			}
		}
	case reflect.String:
		// A string of a named type is an enum's constant (TargetKind, Status…), in the binary, not the heap.
		if s := v.String(); len(s) > 0 && v.Type().PkgPath() == "" {
			w.alloc(unsafe.Pointer(unsafe.StringData(s)), uintptr(len(s)), false)
		}
	case reflect.Interface:
		if !v.IsNil() {
			e := v.Elem()
			if e.Kind() != reflect.Pointer && e.Type().Size() > 0 {
				w.n += int64(allocSize(e.Type().Size(), hasPointers(e.Type()))) // boxed into the interface
			}
			w.value(e)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		// Swiss tables: groups of 8 slots of key, value and a control byte, at most 7/8 full.
		t := v.Type()
		slots := uintptr(v.Len())*8/7 + 8
		w.n += int64(allocSize(slots*(t.Key().Size()+t.Elem().Size()+1)+48, true))
		it := v.MapRange()
		for it.Next() {
			w.value(it.Key())
			w.value(it.Value())
		}
	}
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.String, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	}
	return false
}

// allocSize is what Go's allocator takes for an object of n bytes: objects without pointers under 16
// bytes are charged tinyCharge, larger ones are rounded up to a size class, objects
// over 512 bytes with pointers carry an 8-byte type header, and objects over 32 KiB take whole 8 KiB pages.
func allocSize(n uintptr, pointers bool) uintptr {
	if !pointers && n < 16 {
		// Tiny objects share 16-byte blocks, but a block lives as long as any of its objects: ones kept among
		// a request's garbage keep most of theirs (measured: 12, between the two, fits the heap
		// best over every answer type).
		return tinyCharge
	}
	if pointers && n > 512 {
		n += 8
	}
	if n > 32<<10 {
		return (n + 8<<10 - 1) &^ (8<<10 - 1)
	}
	for _, c := range sizeClasses {
		if n <= c {
			return c
		}
	}
	return n
}

const tinyCharge = 12

// sizeClasses are the runtime's (runtime/sizeclasses.go), up to 32 KiB.
var sizeClasses = [...]uintptr{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048,
	2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
	12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}
