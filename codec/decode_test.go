package codec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/recoverctl/recoverctl/codec/javaser"
)

// firstRecord returns a captured Java record of the given kind.
func firstRecord(t *testing.T, kind Kind) (string, []byte) {
	t.Helper()
	for _, c := range loadCaptures(t) {
		if c.kryo() || c.codec() != "" {
			continue
		}
		for _, name := range sortedNames(c.records) {
			if k, _ := KindOf(name); k == kind {
				return name, c.records[name]
			}
		}
	}
	t.Fatalf("no plain Java %s record in the captures", kind)
	return "", nil
}

func TestTruncatedRecordNamesRecordAndOffset(t *testing.T) {
	name, data := firstRecord(t, KindApp)
	for _, cut := range []int{2, 5, len(data) / 2, len(data) - 1} {
		rec, err := Decode(name, data[:cut], Options{})
		if err == nil {
			t.Fatalf("cut at %d: no error", cut)
		}
		if !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("cut at %d: error %q does not start with the record name", cut, err)
		}
		var fe *javaser.FormatError
		if cut > 4 {
			if !errors.As(err, &fe) || !errors.Is(err, javaser.ErrTruncated) {
				t.Errorf("cut at %d: want a *javaser.FormatError wrapping ErrTruncated, got %T %v", cut, err, err)
			} else if fe.Offset <= 0 || fe.Offset > int64(cut) {
				t.Errorf("cut at %d: offset %d out of range", cut, fe.Offset)
			}
		}
		if rec != nil && (rec.App != nil || rec.Driver != nil || rec.Worker != nil) {
			t.Errorf("cut at %d: a model was built from a broken stream", cut)
		}
	}
}

func TestCorruptTypeCodeIsFormatError(t *testing.T) {
	name, data := firstRecord(t, KindWorker)
	bad := append([]byte(nil), data...)
	bad[4] = 0x6a // where TC_OBJECT must be; no type code has this value
	_, err := Decode(name, bad, Options{})
	var fe *javaser.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("want *javaser.FormatError, got %T %v", err, err)
	}
	if fe.Offset != 4 || !strings.Contains(err.Error(), "0x6a") || !strings.HasPrefix(err.Error(), name+": offset 4: ") {
		t.Errorf("error %q: want record name, offset 4 and the bad byte", err)
	}
}

func TestRecordOfOtherKindIsModelError(t *testing.T) {
	_, data := firstRecord(t, KindDriver)
	_, err := Decode("app_app-20260101000000-0000", data, Options{})
	var me *ModelError
	if !errors.As(err, &me) {
		t.Fatalf("want *ModelError, got %T %v", err, err)
	}
	if me.Want != classAppInfo || me.Got != classDriverInfo {
		t.Errorf("got %+v", me)
	}
}

func TestBadRecordName(t *testing.T) {
	_, data := firstRecord(t, KindDriver)
	if _, err := Decode("foo_bar", data, Options{}); !errors.Is(err, ErrName) {
		t.Errorf("want ErrName, got %v", err)
	}
	rec, err := Decode("", data, Options{})
	if err != nil || rec.Kind != KindDriver {
		t.Errorf("empty name: kind from the class: got %v, %v", rec, err)
	}
}

// synthetic builds an object of one class with the given fields.
func synthetic(class string, fields map[string]javaser.Value) *javaser.Object {
	d := &javaser.ClassDesc{Name: class, Flags: javaser.SCSerializable}
	cd := javaser.ClassData{Desc: d}
	for name, v := range fields {
		typ := byte('L')
		switch v.(type) {
		case int32:
			typ = 'I'
		case int64:
			typ = 'J'
		}
		d.Fields = append(d.Fields, javaser.Field{Type: typ, Name: name})
		cd.Values = append(cd.Values, v)
	}
	return &javaser.Object{Desc: d, Classes: []javaser.ClassData{cd}}
}

func TestModelErrors(t *testing.T) {
	cases := []struct {
		name     string
		root     *javaser.Object
		path     string
		want     string
		got      string
		unknowns int
	}{
		{"app without desc", synthetic(classAppInfo, map[string]javaser.Value{"id": "a", "desc": nil}),
			"desc", classAppDesc, "null", 0},
		{"app desc of wrong class", synthetic(classAppInfo, map[string]javaser.Value{"desc": synthetic("x.Y", nil)}),
			"desc", classAppDesc, "x.Y", 0},
		{"id not a string", synthetic(classAppInfo, map[string]javaser.Value{"id": int32(3),
			"desc": synthetic(classAppDesc, map[string]javaser.Value{"name": "n"})}), "id", "java.lang.String", "int", 0},
		{"name of wrong type in desc", synthetic(classAppInfo, map[string]javaser.Value{"id": "a",
			"desc": synthetic(classAppDesc, map[string]javaser.Value{"name": int64(1), "brandNew": "kept"})}),
			"desc.name", "java.lang.String", "long", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &builder{rec: "app_a"}
			b.app(c.root)
			if b.err == nil {
				t.Fatal("no model error")
			}
			if b.err.Path != c.path || b.err.Want != c.want || b.err.Got != c.got || b.err.Record != "app_a" {
				t.Errorf("got %+v", b.err)
			}
			if len(b.unknown) != c.unknowns {
				t.Errorf("unknown fields %+v, want %d", b.unknown, c.unknowns)
			}
		})
	}
}

func TestUnknownFieldsAreKept(t *testing.T) {
	root := synthetic(classWorkerInfo, map[string]javaser.Value{"id": "w", "host": "h", "port": int32(1),
		"futureField": synthetic("scala.Some", map[string]javaser.Value{"value": "v"})})
	b := &builder{rec: "worker_w"}
	w := b.worker(root)
	if b.err != nil || w == nil || w.ID != "w" {
		t.Fatalf("worker %+v err %v", w, b.err)
	}
	if len(b.unknown) != 1 || b.unknown[0].Path != "futureField" || b.unknown[0].Value != "v" {
		t.Errorf("unknown %+v", b.unknown)
	}
}

func TestJavaDateString(t *testing.T) {
	ms := int64(1704207845123)
	if got := JavaDateString(time.UnixMilli(ms), nil); got != "Tue Jan 02 15:04:05 UTC 2024" {
		t.Errorf("UTC: %q", got)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	if got := JavaDateString(time.UnixMilli(ms), ny); got != "Tue Jan 02 10:04:05 EST 2024" {
		t.Errorf("New York: %q", got)
	}
}

func TestIDZoneOffset(t *testing.T) {
	// 2024-01-02 15:04:05 UTC submitted by a Master in UTC+01:00.
	ms := time.Date(2024, 1, 2, 15, 4, 5, 123e6, time.UTC).UnixMilli()
	for _, c := range []struct {
		rec  Record
		want time.Duration
		ok   bool
	}{
		{Record{App: &App{ID: "app-20240102160405-0003", SubmitDateMs: ms}}, time.Hour, true},
		{Record{Driver: &Driver{ID: "driver-20240102150405-0000", SubmitDateMs: ms}}, 0, true},
		{Record{App: &App{ID: "myapp-7", SubmitDateMs: ms}}, 0, false},
		{Record{App: &App{ID: "app-20240102160433-0003", SubmitDateMs: ms}}, 0, false},
		{Record{Worker: &Worker{ID: "worker-20240102150405-h-1"}}, 0, false},
	} {
		got, ok := c.rec.IDZoneOffset()
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: got %v %v, want %v %v", c.rec, got, ok, c.want, c.ok)
		}
	}
}

// A record cut short inside its compression envelope, or whose decompressed
// Java stream is broken, still names the record first.
func TestCompressedRecordErrorsNameRecord(t *testing.T) {
	n := 0
	for _, c := range loadCaptures(t) {
		if c.codec() == "" || c.kryo() {
			continue
		}
		for _, name := range sortedNames(c.records) {
			data := c.records[name]
			n++
			_, err := Decode(name, data[:len(data)/2], Options{})
			if err == nil || !strings.HasPrefix(err.Error(), name+": ") {
				t.Errorf("%s/%s cut in half: error %v", c.variant, name, err)
			}
			rec, err := Decode(name, data, Options{Codec: c.codec()})
			if err != nil || rec.Codec != c.codec() {
				t.Errorf("%s/%s with Options.Codec: %v", c.variant, name, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no compressed capture (filesystem-lz4 etc.) under testdata/spark")
	}
}
