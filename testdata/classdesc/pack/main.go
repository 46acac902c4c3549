// Command pack turns the per-release dumps of ClassDescGen into
// codec/classes/classdesc/classdesc.json.zst: every distinct class
// descriptor once, every distinct set of descriptors (a table) once, and
// an index from release to table; and writes the list of releases covered
// to codec/classes/classdesc/README.md. testdata/classdesc/gen.sh runs it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/recoverctl/recoverctl/codec/classes/classdesc"
)

type dump struct {
	Spark        string            `json:"spark"`
	Scala        string            `json:"scala"`
	ScalaLibrary string            `json:"scalaLibrary"`
	Java         string            `json:"java"`
	Classes      []json.RawMessage `json:"classes"`
	Missing      []string          `json:"missing"`
	Probes       map[string]bool   `json:"probes"`
}

type table struct {
	Classes []int    `json:"classes"`
	Missing []string `json:"missing"`
}

type doc struct {
	Java      string              `json:"java"`
	Releases  []classdesc.Release `json:"releases"`
	Uncovered []classdesc.Release `json:"uncovered,omitempty"`
	Probed    []string            `json:"probed"`
	Probes    [][]int             `json:"probes"`
	Classes   []json.RawMessage   `json:"classes"`
	Tables    []table             `json:"tables"`
}

func main() {
	dumps := flag.String("dumps", "", "directory of <spark>-<scala>.json dumps")
	out := flag.String("out", "codec/classes/classdesc", "output directory")
	skipped := flag.String("skipped", "", "releases Maven Central listed but could not serve (space-separated), for the README")
	flag.Parse()
	if err := run(*dumps, *out, strings.Fields(*skipped)); err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
}

func run(dir, out string, skipped []string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no dumps in %s: %v", dir, err)
	}
	var ds []dump
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var d dump
		if err := json.Unmarshal(b, &d); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b dump) int {
		return classdesc.CompareReleases(classdesc.Release{Spark: a.Spark, Scala: a.Scala}, classdesc.Release{Spark: b.Spark, Scala: b.Scala})
	})
	var o doc
	o.Java = ds[0].Java
	for p := range ds[0].Probes {
		o.Probed = append(o.Probed, p)
	}
	slices.Sort(o.Probed)
	pool := map[string]int{}
	tables := map[string]int{}
	probeSets := map[string]int{}
	for _, d := range ds {
		if d.Java != o.Java {
			return fmt.Errorf("%s-%s was dumped on Java %s, the others on %s: JDK classes must come from one JDK", d.Spark, d.Scala, d.Java, o.Java)
		}
		var t table
		for _, c := range d.Classes {
			var buf bytes.Buffer
			if err := json.Compact(&buf, c); err != nil {
				return err
			}
			k := buf.String()
			i, ok := pool[k]
			if !ok {
				i = len(o.Classes)
				pool[k] = i
				o.Classes = append(o.Classes, json.RawMessage(k))
			}
			t.Classes = append(t.Classes, i)
		}
		slices.Sort(t.Classes)
		t.Missing = slices.Sorted(slices.Values(d.Missing))
		if t.Missing == nil {
			t.Missing = []string{}
		}
		kb, _ := json.Marshal(t)
		ti, ok := tables[string(kb)]
		if !ok {
			ti = len(o.Tables)
			tables[string(kb)] = ti
			o.Tables = append(o.Tables, t)
		}
		var present []int
		for i, p := range o.Probed {
			v, ok := d.Probes[p]
			if !ok {
				return fmt.Errorf("%s-%s: probe %s missing: every dump must probe the same classes", d.Spark, d.Scala, p)
			}
			if v {
				present = append(present, i)
			}
		}
		if len(d.Probes) != len(o.Probed) {
			return fmt.Errorf("%s-%s probes %d classes, the first dump %d", d.Spark, d.Scala, len(d.Probes), len(o.Probed))
		}
		pk := fmt.Sprint(present)
		pi, ok := probeSets[pk]
		if !ok {
			pi = len(o.Probes)
			probeSets[pk] = pi
			if present == nil {
				present = []int{}
			}
			o.Probes = append(o.Probes, present)
		}
		o.Releases = append(o.Releases, classdesc.Release{Spark: d.Spark, Scala: d.Scala, ScalaLibrary: d.ScalaLibrary, Table: ti, Probes: pi})
	}
	for _, sk := range skipped {
		spark, scala, ok := strings.Cut(sk, "-")
		if !ok {
			return fmt.Errorf("-skipped %q: want <spark>-<scala>", sk)
		}
		o.Uncovered = append(o.Uncovered, classdesc.Release{Spark: spark, Scala: scala, Table: -1, Probes: -1})
	}
	if len(o.Tables) > classdesc.MaxTables {
		return fmt.Errorf("%d distinct tables, classdesc.Set holds %d", len(o.Tables), classdesc.MaxTables)
	}
	raw, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if _, err := classdesc.Parse(raw); err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(8<<20))
	if err != nil {
		return err
	}
	packed := enc.EncodeAll(raw, nil)
	if err := os.WriteFile(filepath.Join(out, "classdesc.json.zst"), packed, 0o644); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(out, "*-2.1?.json"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(out, "README.md"), readme(o, len(raw), len(packed), skipped), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "pack: %d releases, %d tables, %d distinct classes, %d bytes of JSON, %d packed\n",
		len(o.Releases), len(o.Tables), len(o.Classes), len(raw), len(packed))
	return nil
}

func readme(o doc, raw, packed int, skipped []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Class descriptors of every Spark release (generated)\n\n")
	fmt.Fprintf(&b, "Written by `testdata/classdesc/gen.sh` (do not edit): ObjectStreamClass.lookup on the classes of\n")
	fmt.Fprintf(&b, "`testdata/classdesc/seeds.txt` with each release's jars from Maven Central; JDK classes from Java %s.\n", o.Java)
	fmt.Fprintf(&b, "%d releases, %d distinct tables, %d distinct class descriptors; %d bytes of JSON, %d in `classdesc.json.zst`.\n\n",
		len(o.Releases), len(o.Tables), len(o.Classes), raw, packed)
	fmt.Fprintf(&b, "| table | releases (Spark-Scala) whose descriptors are identical |\n|---|---|\n")
	for ti := range o.Tables {
		var names []string
		for _, r := range o.Releases {
			if r.Table == ti {
				names = append(names, r.Name())
			}
		}
		fmt.Fprintf(&b, "| %d | %s |\n", ti, strings.Join(names, ", "))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "\nNot covered: %s (listed in Maven Central's metadata, but their artifacts could not be resolved from it).\n",
			strings.Join(skipped, ", "))
	}
	return []byte(b.String())
}
