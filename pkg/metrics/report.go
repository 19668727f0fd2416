package metrics

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
)

// field is one exported number of a report type.
type field struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	index []int // reflect path from the report to the field
	// seconds converts a time.Duration to seconds.
	seconds bool
}

// reportType is how the collector exports the reports of one type.
type reportType struct {
	fields []field
}

// fieldKind says how to export a field, where the default does not do.
type fieldKind int

const (
	kindGauge fieldKind = iota + 1 // an unsigned field that goes down
	kindOmit                       // a field not exported
)

// fieldKinds holds, for the fields of report types that the default does
// not fit, how to export them.
type fieldKinds map[reflect.Type]map[string]fieldKind

// set records the kind of fields (dotted paths, such as "Log.Segments") of
// the type of report; option names the option, for the panic. It panics
// if the type has no such field among those exported: a renamed field
// would otherwise change kind silently.
func (k fieldKinds) set(option string, report any, fields []string, kind fieldKind) {
	t := reflect.TypeOf(report)
	if t == nil || t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("metrics.%s: %T is not a struct", option, report))
	}
	for _, name := range fields {
		if !hasNumberField(t, name) {
			panic(fmt.Sprintf("metrics.%s: %v has no number or duration field %q", option, t, name))
		}
		if k[t] == nil {
			k[t] = make(map[string]fieldKind)
		}
		k[t][name] = kind
	}
}

// hasNumberField tells whether t has an exported field at the dotted path
// whose value the collector exports.
func hasNumberField(t reflect.Type, path string) bool {
	for name := range strings.SplitSeq(path, ".") {
		if t.Kind() != reflect.Struct {
			return false
		}
		f, ok := t.FieldByName(name)
		if !ok || !f.IsExported() {
			return false
		}
		t = f.Type
	}
	return numberKind(t)
}

// numberKind tells whether a field of type t is exported as a value.
func numberKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// reportTypes caches the reportType of each type seen, so that a scrape
// walks the fields of a type once, not at every scrape.
type reportTypes struct {
	kinds fieldKinds
	mu    sync.Mutex
	types map[reflect.Type]*reportType
}

// of returns the reportType of t, a struct type.
func (r *reportTypes) of(t reflect.Type) *reportType {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rt, ok := r.types[t]; ok {
		return rt
	}
	if r.types == nil {
		r.types = make(map[reflect.Type]*reportType)
	}
	rt := &reportType{}
	prefix := "mir_" + snakeCase(packageName(t))
	r.walk(rt, t, t, prefix, "", nil)
	r.types[t] = rt
	return rt
}

// walk adds to rt the fields of t, a struct nested at index (with dotted
// path) in the report type root. Embedded structs add their fields under
// the same prefix; other nested structs under the field's name. Fields
// that are not numbers, booleans, durations or structs (slices, maps,
// strings, pointers) are left out: they have no single value.
func (r *reportTypes) walk(rt *reportType, root, t reflect.Type, prefix, path string, index []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		fpath := f.Name
		if path != "" {
			fpath = path + "." + f.Name
		}
		switch {
		case f.Type == reflect.TypeFor[time.Duration]():
			r.add(rt, root, prefix+"_"+snakeCase(f.Name)+"_seconds", fpath, idx, true)
		case f.Type.Kind() == reflect.Struct && f.Anonymous:
			r.walk(rt, root, f.Type, prefix, path, idx)
		case f.Type.Kind() == reflect.Struct:
			r.walk(rt, root, f.Type, prefix+"_"+snakeCase(f.Name), fpath, idx)
		case numberKind(f.Type):
			r.add(rt, root, prefix+"_"+snakeCase(f.Name), fpath, idx, false)
		}
	}
}

// add adds one field named name (without the counter suffix).
func (r *reportTypes) add(rt *reportType, root reflect.Type, name, path string, index []int, seconds bool) {
	var kind prometheus.ValueType
	switch r.kinds[root][path] {
	case kindOmit:
		return
	case kindGauge:
		kind = prometheus.GaugeValue
	default:
		kind = defaultKind(root.FieldByIndex(index).Type, seconds)
	}
	if kind == prometheus.CounterValue {
		name += "_total"
	}
	help := fmt.Sprintf("%v.%s, as the module reports it (see the field's documentation).", root, path)
	rt.fields = append(rt.fields, field{
		desc:    prometheus.NewDesc(name, help, moduleLabels, nil),
		kind:    kind,
		index:   index,
		seconds: seconds,
	})
}

// defaultKind returns the kind of a field of type t: unsigned integers
// and durations count (what a module counts only grows), other numbers
// and booleans are gauges.
func defaultKind(t reflect.Type, seconds bool) prometheus.ValueType {
	switch {
	case seconds:
		return prometheus.CounterValue
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// collect sends the metrics of report, a struct, for module.
func (rt *reportType) collect(ch chan<- prometheus.Metric, v reflect.Value, labels []string) {
	for _, f := range rt.fields {
		ch <- prometheus.MustNewConstMetric(f.desc, f.kind, fieldValue(v.FieldByIndex(f.index), f.seconds), labels...)
	}
}

// fieldValue returns v, a number, boolean or duration, as a float.
func fieldValue(v reflect.Value, seconds bool) float64 {
	if seconds {
		return time.Duration(v.Int()).Seconds()
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return 1
		}
		return 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint())
	}
	return v.Float()
}

// packageName returns the last element of t's package path: the name of
// the package that defines the report, which names its metrics.
func packageName(t reflect.Type) string {
	p := t.PkgPath()
	return p[strings.LastIndexByte(p, '/')+1:]
}

// snakeCase turns a Go identifier (or a package path's last element)
// into a metric name's words: "NextSeqNr" into "next_seq_nr",
// "BadClientID" into "bad_client_id", "GCIndex" into "gc_index"; any
// character other than an ASCII letter or digit becomes "_".
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || ((unicode.IsUpper(prev) || unicode.IsDigit(prev)) && nextLower) {
				b.WriteByte('_')
			}
		}
		r = unicode.ToLower(r)
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9') {
			r = '_' // a metric name is ASCII: "yaml.v3", "Délai"
		}
		b.WriteRune(r)
	}
	return b.String()
}
