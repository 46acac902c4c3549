package inventory

import "github.com/recoverctl/recoverctl/codec"

// View is the inventory shaped like a live Master's /json: the same top-level
// keys and, inside codec's types, the same field names, so a script written
// against a live Master reads a dead one. What /json lacks (where a record is
// stored, what could not be decoded, foreign entries) gets keys of its own in
// the same style.
type View struct {
	Store         string       `json:"store"`
	Workers       []WorkerView `json:"workers"`
	ActiveApps    []AppView    `json:"activeapps"`
	ActiveDrivers []DriverView `json:"activedrivers"`
	Undecodable   []Problem    `json:"undecodable"`
	Foreign       []Foreign    `json:"foreign"`
}

// RecordInfo says where a decoded value was stored.
type RecordInfo struct {
	Record     string `json:"record"`
	RecordSize int64  `json:"recordsize"`
	Codec      string `json:"codec,omitempty"`
	Spark      string `json:"sparkversion,omitempty"`
}

// WorkerView is one worker record.
type WorkerView struct {
	*codec.Worker
	RecordInfo
}

// AppView is one application record. The Master's JSON also carries the
// pre-3.2 names of two fields (the only ones Spark 3.0 and 3.1 write), so
// scripts written against any version find them.
type AppView struct {
	*codec.App
	MemoryPerSlave    int32                       `json:"memoryperslave"`
	ResourcesPerSlave []codec.ResourceRequirement `json:"resourcesperslave"`
	RecordInfo
}

// DriverView is one driver record.
type DriverView struct {
	*codec.Driver
	RecordInfo
}

// Problem is a record that could not be decoded: still a record, with what
// its name says and why it failed.
type Problem struct {
	Record     string `json:"record"`
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	RecordSize int64  `json:"recordsize"`
	Serializer string `json:"serializer,omitempty"`
	Codec      string `json:"codec,omitempty"`
	Error      string `json:"error"`
}

// Foreign is an entry that is no Spark record.
type Foreign struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// View builds the /json-shaped document. Slices are never nil so that
// scripts always find arrays.
func (inv *Inventory) View() View {
	v := View{
		Store:         inv.Store,
		Workers:       []WorkerView{},
		ActiveApps:    []AppView{},
		ActiveDrivers: []DriverView{},
		Undecodable:   []Problem{},
		Foreign:       []Foreign{},
	}
	for _, it := range inv.Items {
		if !it.Decoded() {
			v.Undecodable = append(v.Undecodable, it.Problem())
			continue
		}
		switch x := it.ViewElement().(type) {
		case AppView:
			v.ActiveApps = append(v.ActiveApps, x)
		case DriverView:
			v.ActiveDrivers = append(v.ActiveDrivers, x)
		case WorkerView:
			v.Workers = append(v.Workers, x)
		}
	}
	for _, e := range inv.Foreign {
		v.Foreign = append(v.Foreign, Foreign{Name: e.Name, Size: e.Size})
	}
	return v
}

// ViewElement is the item as an element of View's workers, activeapps or
// activedrivers (nil when it holds no typed value).
func (it Item) ViewElement() any {
	if it.Record == nil {
		return nil
	}
	info := it.Info()
	switch r := it.Record; {
	case r.App != nil:
		return AppView{App: r.App, MemoryPerSlave: r.App.MemoryPerExecutor, ResourcesPerSlave: r.App.ResourcesPerExecutor, RecordInfo: info}
	case r.Driver != nil:
		return DriverView{r.Driver, info}
	case r.Worker != nil:
		return WorkerView{r.Worker, info}
	}
	return nil
}

// Info is where the item was stored.
func (it Item) Info() RecordInfo {
	info := RecordInfo{Record: it.Name, RecordSize: it.Size}
	if it.Record != nil {
		info.Codec = it.Record.Codec
		info.Spark = it.Record.Spark.Line
	}
	return info
}

// Problem describes an item that failed to decode.
func (it Item) Problem() Problem {
	p := Problem{Record: it.Name, Kind: it.Kind.String(), ID: it.ID, RecordSize: it.Size, Error: "no decodable value"}
	if it.Err != nil {
		p.Error = it.Err.Error()
	}
	if it.Record != nil {
		p.Serializer = it.Record.Serializer
		p.Codec = it.Record.Codec
	}
	return p
}
