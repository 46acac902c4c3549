package codec

import (
	"sort"
	"strconv"
	"time"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// builder turns a decoded tree into the typed model. It records the first
// model error and keeps going where it can, and collects every field it did
// not consume as an UnknownField.
type builder struct {
	rec     string
	loc     *time.Location
	err     *ModelError
	unknown []UnknownField
	plain   *plainState // one budget for all unknown fields of a record
	// views is a slab the views of one record come from: a record opens
	// about a dozen, and one allocation for all keeps Decode within its
	// allocation budget.
	views [24]view
	nview int
}

func (b *builder) fail(path, want string, got javaser.Value) {
	if b.err == nil {
		b.err = &ModelError{Record: b.rec, Path: path, Want: want, Got: describe(got)}
	}
}

// view is one object being read; used marks consumed fields by their index
// over the whole class hierarchy, so unread ones can be reported.
type view struct {
	b      *builder
	o      *javaser.Object
	parent *view // path = parent's path + "." + name, built only for errors
	name   string
	used   uint64
	over   []bool // for objects with more than 64 fields
}

func (v *view) path() string {
	if v == nil {
		return ""
	}
	if v.parent == nil {
		return v.name
	}
	return v.parent.child(v.name)
}

// object opens v as an object of one of the given classes (any class if
// none). A null gives a nil view when !required.
func (b *builder) object(v javaser.Value, parent *view, name string, required bool, classes ...string) *view {
	o, ok := v.(*javaser.Object)
	if !ok || o == nil {
		if v == nil && !required {
			return nil
		}
		want := "an object"
		if len(classes) > 0 {
			want = classes[0]
		}
		b.fail(joinPath(parent, name), want, v)
		return nil
	}
	if len(classes) > 0 {
		match := false
		for _, c := range classes {
			if o.ClassName() == c {
				match = true
			}
		}
		if !match {
			b.fail(joinPath(parent, name), classes[0], v)
			return nil
		}
	}
	if b.nview < len(b.views) {
		v := &b.views[b.nview]
		b.nview++
		*v = view{b: b, o: o, parent: parent, name: name}
		return v
	}
	return &view{b: b, o: o, parent: parent, name: name}
}

func joinPath(parent *view, name string) string {
	if parent == nil {
		return name
	}
	return parent.child(name)
}

func (v *view) child(name string) string {
	p := v.path()
	if p == "" {
		return name
	}
	return p + "." + name
}

// get returns a field by name (most derived class first) and marks it used.
func (v *view) get(name string) (javaser.Value, bool) {
	idx := 0
	for i := range v.o.Classes {
		idx += len(v.o.Classes[i].Desc.Fields)
	}
	for ci := len(v.o.Classes) - 1; ci >= 0; ci-- {
		cd := &v.o.Classes[ci]
		idx -= len(cd.Desc.Fields)
		for fi, f := range cd.Desc.Fields {
			if (f.Name == name || expandedName(f.Name, cd.Desc.Name, name)) && fi < len(cd.Values) {
				v.mark(idx + fi)
				return cd.Values[fi], true
			}
		}
	}
	return nil, false
}

// expandedName reports whether field is the name scalac 2.11 gives a private
// field that a closure reads ("org$apache$spark$deploy$master$ApplicationInfo$$defaultCores"):
// the declaring class with '.' as '$', then "$$", then the source name. 2.12
// compiles closures to methods of the class itself and keeps the plain name,
// so the same field has two names across Scala lines. Compared in place: a
// record reads dozens of fields and this must not allocate.
func expandedName(field, class, name string) bool {
	if len(field) != len(class)+2+len(name) || field[len(class):len(class)+2] != "$$" || field[len(class)+2:] != name {
		return false
	}
	for i := 0; i < len(class); i++ {
		c := class[i]
		if c == '.' {
			c = '$'
		}
		if field[i] != c {
			return false
		}
	}
	return true
}

// has reports whether the object's classes declare any of the fields, without
// marking it read: Spark 2.4's classes lack the 3.0 resource fields, and the
// model keeps them nil there (JSON null) rather than empty as for a 3.x
// record that has none.
func (v *view) has(names ...string) bool {
	for _, cd := range v.o.Classes {
		for _, f := range cd.Desc.Fields {
			for _, n := range names {
				if f.Name == n {
					return true
				}
			}
		}
	}
	return false
}

func (v *view) mark(i int) {
	if i < 64 {
		v.used |= 1 << uint(i)
		return
	}
	if v.over == nil {
		v.over = make([]bool, 0, 8)
	}
	for len(v.over) <= i-64 {
		v.over = append(v.over, false)
	}
	v.over[i-64] = true
}

func (v *view) isUsed(i int) bool {
	if i < 64 {
		return v.used&(1<<uint(i)) != 0
	}
	return i-64 < len(v.over) && v.over[i-64]
}

// done reports the fields nobody read.
func (v *view) done() {
	if v == nil {
		return
	}
	idx := 0
	for _, cd := range v.o.Classes {
		for fi, f := range cd.Desc.Fields {
			if !v.isUsed(idx+fi) && fi < len(cd.Values) {
				v.b.unknown = append(v.b.unknown, UnknownField{
					Path: v.child(f.Name), Class: cd.Desc.Name, Type: f.TypeName(), Value: v.b.plainValue(cd.Values[fi]),
				})
			}
		}
		idx += len(cd.Desc.Fields)
	}
}

func (v *view) str(name string) string {
	x, ok := v.get(name)
	if !ok || x == nil {
		return ""
	}
	s, ok := x.(string)
	if !ok {
		v.b.fail(v.child(name), "java.lang.String", x)
	}
	return s
}

func (v *view) i32(name string) int32 {
	x, ok := v.get(name)
	if !ok {
		return 0
	}
	n, ok := x.(int32)
	if !ok {
		v.b.fail(v.child(name), "int", x)
	}
	return n
}

func (v *view) i64(name string) int64 {
	x, ok := v.get(name)
	if !ok {
		return 0
	}
	n, ok := x.(int64)
	if !ok {
		v.b.fail(v.child(name), "long", x)
	}
	return n
}

func (v *view) boolean(name string) bool {
	x, ok := v.get(name)
	if !ok {
		return false
	}
	n, ok := x.(bool)
	if !ok {
		v.b.fail(v.child(name), "boolean", x)
	}
	return n
}

// date reads a java.util.Date field into epoch ms and Date.toString text.
func (v *view) date(name string) (int64, string) {
	x, ok := v.get(name)
	if !ok || x == nil {
		return 0, ""
	}
	ms, ok := javaDate(x)
	if !ok {
		v.b.fail(v.child(name), "java.util.Date", x)
		return 0, ""
	}
	return ms, JavaDateString(time.UnixMilli(ms), v.b.loc)
}

// JavaDateString formats t as java.util.Date.toString does
// ("EEE MMM dd HH:mm:ss zzz yyyy") in the given zone, which for the Master is
// its JVM's default zone.
func JavaDateString(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon Jan 02 15:04:05 MST 2006")
}

// option reads a scala.Option field; a null field reads as None.
func (v *view) option(name, want string) (javaser.Value, bool) {
	x, ok := v.get(name)
	if !ok || x == nil {
		return nil, false
	}
	inner, present, isOpt := scalaOption(x)
	if !isOpt {
		v.b.fail(v.child(name), "scala.Option["+want+"]", x)
		return nil, false
	}
	return inner, present
}

func (v *view) optInt(name string) *int32 {
	x, present := v.option(name, "Int")
	if !present {
		return nil
	}
	if b, ok := boxed(x); ok {
		x = b
	}
	n, ok := x.(int32)
	if !ok {
		v.b.fail(v.child(name), "Int", x)
		return nil
	}
	return &n
}

func (v *view) optString(name string) *string {
	x, present := v.option(name, "String")
	if !present {
		return nil
	}
	if u, ok := javaURI(x); ok {
		return &u
	}
	s, ok := x.(string)
	if !ok {
		v.b.fail(v.child(name), "String", x)
		return nil
	}
	return &s
}

func (v *view) strings(name string) []string {
	x, ok := v.get(name)
	if !ok || x == nil {
		return nil
	}
	return v.b.stringSeq(x, v, name)
}

func (b *builder) stringSeq(x javaser.Value, parent *view, name string) []string {
	elems, ok := scalaSeq(x)
	if !ok {
		b.fail(joinPath(parent, name), "a sequence of String", x)
		return nil
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		s, ok := e.(string)
		if !ok {
			b.fail(joinPath(parent, name), "String", e)
			return out
		}
		out = append(out, s)
	}
	return out
}

func (v *view) mapEntries(name string) ([]Entry, bool) {
	x, ok := v.get(name)
	if !ok || x == nil {
		return nil, false
	}
	entries, ok := scalaMap(x)
	if !ok {
		v.b.fail(v.child(name), "a Map", x)
		return nil, false
	}
	return entries, true
}

func (v *view) stringMap(name string) map[string]string {
	entries, ok := v.mapEntries(name)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		k, ok1 := e.Key.(string)
		val, ok2 := e.Value.(string)
		if !ok1 || !ok2 {
			v.b.fail(v.child(name), "Map[String,String]", e.Key)
			return out
		}
		out[k] = val
	}
	return out
}

// numberMap reads a Map[String, Int or Long] with boxed values.
func (b *builder) numberMap(x javaser.Value, parent *view, name string) map[string]int64 {
	entries, ok := scalaMap(x)
	if !ok {
		b.fail(joinPath(parent, name), "a Map", x)
		return nil
	}
	out := make(map[string]int64, len(entries))
	for _, e := range entries {
		k, ok := e.Key.(string)
		if !ok {
			b.fail(joinPath(parent, name), "String key", e.Key)
			return out
		}
		val := e.Value
		if bx, ok := boxed(val); ok {
			val = bx
		}
		switch n := val.(type) {
		case int32:
			out[k] = int64(n)
		case int64:
			out[k] = n
		default:
			b.fail(joinPath(parent, name)+"."+k, "Int or Long", e.Value)
			return out
		}
	}
	return out
}

const (
	classAppInfo    = "org.apache.spark.deploy.master.ApplicationInfo"
	classDriverInfo = "org.apache.spark.deploy.master.DriverInfo"
	classWorkerInfo = "org.apache.spark.deploy.master.WorkerInfo"
	classAppDesc    = "org.apache.spark.deploy.ApplicationDescription"
	classDriverDesc = "org.apache.spark.deploy.DriverDescription"
	classCommand    = "org.apache.spark.deploy.Command"
)

func (b *builder) app(root javaser.Value) *App {
	v := b.object(root, nil, "", true, classAppInfo)
	if v == nil {
		return nil
	}
	a := &App{}
	a.ID = v.str("id")
	a.StartTime = v.i64("startTime")
	a.SubmitDateMs, a.SubmitDate = v.date("submitDate")
	a.DefaultCores = v.i32("defaultCores")
	a.RequestedCores = v.i32("requestedCores")
	a.RetryCount = v.i32("_retryCount")
	if x, _ := v.get("driver"); x != nil {
		a.Driver = b.endpoint(x, v, "driver")
	}
	x, _ := v.get("desc")
	d := b.object(x, v, "desc", true, classAppDesc)
	if d != nil {
		a.Name = d.str("name")
		a.User = d.str("user")
		a.AppUIURL = d.str("appUiUrl")
		a.MaxCores = d.optInt("maxCores")
		a.CoresPerExecutor = d.optInt("coresPerExecutor")
		a.InitialExecutorLimit = d.optInt("initialExecutorLimit")
		a.EventLogDir = d.optString("eventLogDir")
		a.EventLogCodec = d.optString("eventLogCodec")
		a.MemoryPerExecutor = d.i32("memoryPerExecutorMB")
		if _, ok := d.o.Field("memoryPerSlave"); ok { // Spark 1.x name
			a.MemoryPerExecutor = d.i32("memoryPerSlave")
		}
		if rr, ok := d.get("resourceReqsPerExecutor"); ok && rr != nil {
			a.ResourcesPerExecutor = b.requirements(rr, d, "resourceReqsPerExecutor")
		}
		if cx, ok := d.get("command"); ok {
			a.Command = b.command(cx, d, "command")
		}
		if px, ok := d.get("defaultProfile"); ok && px != nil {
			a.DefaultProfile = b.profile(px, d, "defaultProfile")
		}
		if a.DefaultProfile != nil {
			a.MemoryPerExecutor, a.ResourcesPerExecutor = fromProfile(a.DefaultProfile)
			if a.CoresPerExecutor == nil {
				if c, ok := a.DefaultProfile.ExecutorResources["cores"]; ok {
					n := int32(c.Amount)
					a.CoresPerExecutor = &n
				}
			}
		}
		d.done()
	}
	if a.ResourcesPerExecutor == nil && d != nil && d.has("resourceReqsPerExecutor", "defaultProfile") {
		a.ResourcesPerExecutor = []ResourceRequirement{}
	}
	v.done()
	return a
}

// fromProfile computes what ApplicationDescription derives from its default
// profile since 3.4: memory per executor and the custom resources.
func fromProfile(p *ResourceProfile) (int32, []ResourceRequirement) {
	mem := int32(1024)
	if m, ok := p.ExecutorResources["memory"]; ok {
		mem = int32(m.Amount)
	}
	reqs := []ResourceRequirement{}
	for name, r := range p.ExecutorResources {
		if builtinExecutorResources[name] {
			continue
		}
		reqs = append(reqs, ResourceRequirement{Name: r.ResourceName, Amount: r.Amount, NumParts: 1})
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Name < reqs[j].Name })
	return mem, reqs
}

func (b *builder) driver(root javaser.Value) *Driver {
	v := b.object(root, nil, "", true, classDriverInfo)
	if v == nil {
		return nil
	}
	d := &Driver{}
	if v.has("_resources") {
		d.Resources = map[string]ResourceInformation{}
	}
	d.ID = v.str("id")
	d.StartTime = v.i64("startTime")
	d.SubmitDateMs, d.SubmitDate = v.date("submitDate")
	if entries, ok := v.mapEntries("_resources"); ok {
		for _, e := range entries {
			k, _ := e.Key.(string)
			d.Resources[k] = b.resourceInfo(e.Value, v, "_resources."+k)
		}
	}
	x, _ := v.get("desc")
	dv := b.object(x, v, "desc", true, classDriverDesc)
	if dv != nil {
		d.JarURL = dv.str("jarUrl")
		d.Memory = dv.i32("mem")
		d.Cores = dv.i32("cores")
		d.Supervise = dv.boolean("supervise")
		if cx, ok := dv.get("command"); ok {
			d.Command = b.command(cx, dv, "command")
		}
		if rr, ok := dv.get("resourceReqs"); ok && rr != nil {
			d.ResourceReqs = b.requirements(rr, dv, "resourceReqs")
		}
		dv.done()
	}
	if len(d.Command.Arguments) > 2 {
		d.MainClass = d.Command.Arguments[2]
	}
	if d.ResourceReqs == nil && dv != nil && dv.has("resourceReqs") {
		d.ResourceReqs = []ResourceRequirement{}
	}
	v.done()
	return d
}

func (b *builder) worker(root javaser.Value) *Worker {
	v := b.object(root, nil, "", true, classWorkerInfo)
	if v == nil {
		return nil
	}
	w := &Worker{}
	if v.has("resources") {
		w.Resources = map[string]WorkerResource{}
	}
	w.ID = v.str("id")
	w.Host = v.str("host")
	w.Port = v.i32("port")
	w.Cores = v.i32("cores")
	w.Memory = v.i32("memory")
	w.WebUIAddress = v.str("webUiAddress")
	if _, ok := v.o.Field("publicAddress"); ok { // Spark 1.x kept the parts
		w.WebUIAddress = "http://" + v.str("publicAddress") + ":" + strconv.Itoa(int(v.i32("webUiPort")))
	}
	if x, _ := v.get("endpoint"); x != nil {
		w.Endpoint = b.endpoint(x, v, "endpoint")
	}
	if entries, ok := v.mapEntries("resources"); ok {
		for _, e := range entries {
			k, _ := e.Key.(string)
			rv := b.object(e.Value, v, "resources."+k, true)
			if rv == nil {
				continue
			}
			r := WorkerResource{Name: rv.str("name"), Addresses: rv.strings("addresses")}
			if x, ok := rv.get("org$apache$spark$resource$ResourceAllocator$$addressAvailabilityMap"); ok && x != nil {
				r.Availability = b.numberMap(x, rv, "addressAvailabilityMap")
			}
			rv.get("bitmap$0") // the lazy val's flag: meaningful only with the map
			if r.Addresses == nil {
				r.Addresses = []string{}
			}
			w.Resources[k] = r
			rv.done()
		}
	}
	v.done()
	return w
}

func (b *builder) command(x javaser.Value, parent *view, name string) Command {
	v := b.object(x, parent, name, true, classCommand)
	if v == nil {
		return Command{}
	}
	c := Command{
		MainClass:          v.str("mainClass"),
		Arguments:          v.strings("arguments"),
		Environment:        v.stringMap("environment"),
		ClassPathEntries:   v.strings("classPathEntries"),
		LibraryPathEntries: v.strings("libraryPathEntries"),
		JavaOpts:           v.strings("javaOpts"),
	}
	v.done()
	return c
}

func (b *builder) requirements(x javaser.Value, parent *view, name string) []ResourceRequirement {
	elems, ok := scalaSeq(x)
	if !ok {
		b.fail(joinPath(parent, name), "Seq[ResourceRequirement]", x)
		return nil
	}
	out := make([]ResourceRequirement, 0, len(elems))
	for i, e := range elems {
		v := b.object(e, parent, name+"."+strconv.Itoa(i), true, "org.apache.spark.resource.ResourceRequirement")
		if v == nil {
			return out
		}
		out = append(out, ResourceRequirement{Name: v.str("resourceName"), Amount: int64(v.i32("amount")), NumParts: v.i32("numParts")})
		v.done()
	}
	return out
}

func (b *builder) resourceInfo(x javaser.Value, parent *view, name string) ResourceInformation {
	v := b.object(x, parent, name, true)
	if v == nil {
		return ResourceInformation{}
	}
	r := ResourceInformation{Name: v.str("name"), Addresses: v.strings("addresses")}
	if r.Addresses == nil {
		r.Addresses = []string{}
	}
	v.done()
	return r
}

func (b *builder) profile(x javaser.Value, parent *view, name string) *ResourceProfile {
	v := b.object(x, parent, name, true)
	if v == nil {
		return nil
	}
	p := &ResourceProfile{
		ExecutorResources: map[string]ExecutorResourceRequest{},
		TaskResources:     map[string]TaskResourceRequest{},
	}
	p.ID = v.i32("_id")
	p.CoresLimitKnown = v.boolean("_coresLimitKnown")
	p.LimitingResource = v.optString("_limitingResource")
	p.MaxTasksPerExecutor = v.optInt("_maxTasksPerExecutor")
	if m, present := v.option("_executorResourceSlotsPerAddr", "Map"); present {
		p.ExecutorSlotsPerAddr = b.numberMap(m, v, "_executorResourceSlotsPerAddr")
	}
	if entries, ok := v.mapEntries("executorResources"); ok {
		for _, e := range entries {
			k, _ := e.Key.(string)
			rv := b.object(e.Value, v, "executorResources."+k, true, "org.apache.spark.resource.ExecutorResourceRequest")
			if rv == nil {
				continue
			}
			p.ExecutorResources[k] = ExecutorResourceRequest{
				ResourceName: rv.str("resourceName"), Amount: rv.i64("amount"),
				DiscoveryScript: rv.str("discoveryScript"), Vendor: rv.str("vendor"),
			}
			rv.done()
		}
	}
	if entries, ok := v.mapEntries("taskResources"); ok {
		for _, e := range entries {
			k, _ := e.Key.(string)
			rv := b.object(e.Value, v, "taskResources."+k, true, "org.apache.spark.resource.TaskResourceRequest")
			if rv == nil {
				continue
			}
			amt, _ := rv.get("amount")
			f, ok := amt.(float64)
			if !ok {
				b.fail(rv.child("amount"), "double", amt)
			}
			p.TaskResources[k] = TaskResourceRequest{ResourceName: rv.str("resourceName"), Amount: f}
			rv.done()
		}
	}
	v.done()
	return p
}

func (b *builder) endpoint(x javaser.Value, parent *view, name string) *Endpoint {
	v := b.object(x, parent, name, true)
	if v == nil {
		return nil
	}
	e := &Endpoint{}
	if ax, ok := v.get("endpointAddress"); ok {
		av := b.object(ax, v, "endpointAddress", true)
		if av != nil {
			e.Name = av.str("name")
			e.Address = av.str("toString")
			if rx, ok := av.get("rpcAddress"); ok && rx != nil {
				rv := b.object(rx, av, "rpcAddress", true)
				if rv != nil {
					e.Host = rv.str("host")
					e.Port = rv.i32("port")
					rv.done()
				}
			}
			av.done()
		}
	}
	if _, ok := v.o.Field("maxRetries"); ok {
		n := v.i32("maxRetries")
		e.MaxRetries = &n
	}
	if _, ok := v.o.Field("retryWaitMs"); ok {
		n := v.i64("retryWaitMs")
		e.RetryWaitMs = &n
	}
	if tx, ok := v.get("defaultAskTimeout"); ok && tx != nil {
		tv := b.object(tx, v, "defaultAskTimeout", true)
		if tv != nil {
			e.TimeoutProp = tv.str("timeoutProp")
			if dx, ok := tv.get("duration"); ok && dx != nil {
				dv := b.object(dx, tv, "duration", true)
				if dv != nil {
					n := dv.i64("length")
					unit := ""
					if u, ok := dv.get("unit"); ok {
						if en, ok := u.(*javaser.Enum); ok {
							unit = en.Constant
						}
					}
					e.AskTimeout = strconv.FormatInt(n, 10) + " " + lowerUnit(unit)
					dv.done()
				}
			}
			tv.done()
		}
	}
	v.done()
	return e
}

// lowerUnit prints a TimeUnit as FiniteDuration.toString does ("seconds").
func lowerUnit(u string) string {
	out := []byte(u)
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}

// describe names what a value is, for errors.
func describe(v javaser.Value) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return "java.lang.String"
	case *javaser.Object:
		if t == nil {
			return "null"
		}
		return t.ClassName()
	case *javaser.Array:
		if t.Desc != nil {
			return t.Desc.Name
		}
		return "array"
	case *javaser.Enum:
		return "enum " + t.Constant
	case int32:
		return "int"
	case int64:
		return "long"
	case bool:
		return "boolean"
	case float64:
		return "double"
	}
	return "value"
}

func (b *builder) plainValue(x javaser.Value) any {
	if b.plain == nil {
		b.plain = newPlainState()
	}
	return b.plain.plain(x, 0)
}
