package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/recoverctl/recoverctl/inventory"
	"github.com/recoverctl/recoverctl/store"
)

// outputFormat is what -o chose. Tables are for people; json and yaml are
// the contract for scripts and carry the same data.
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
	outputYAML  outputFormat = "yaml"
)

func parseOutput(s string) (outputFormat, error) {
	switch f := outputFormat(strings.ToLower(s)); f {
	case outputTable, outputJSON, outputYAML:
		return f, nil
	}
	return "", usageError{fmt.Errorf("-o %q: want table, json or yaml", s)}
}

// writeData prints v as JSON or YAML. YAML is made from the JSON so both use
// the same field names.
func writeData(w io.Writer, format outputFormat, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	if format == outputYAML {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return fmt.Errorf("encode output as yaml: %w", err)
		}
	} else {
		b = append(b, '\n')
	}
	_, err = w.Write(b)
	return err
}

// The layout of an element of writeViewJSON's arrays, as json.MarshalIndent
// takes it.
const (
	viewJSONPrefix = "    "
	viewJSONIndent = "  "
)

// writeViewJSON streams the /json-shaped view one element at a time, from
// the JSON the inventory kept (Options.Encode, laid out with viewJSONPrefix
// and viewJSONIndent) where it has it, so that printing 100,000 records
// never holds the document twice.
func writeViewJSON(w io.Writer, inv *inventory.Inventory) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "{\n  \"store\": %s", mustJSON(inv.Store))
	section := func(key string, elems func(yield func(any, json.RawMessage) bool)) error {
		fmt.Fprintf(bw, ",\n  %q: [", key)
		n := 0
		var err error
		elems(func(v any, raw json.RawMessage) bool {
			if raw == nil {
				if raw, err = json.MarshalIndent(v, viewJSONPrefix, viewJSONIndent); err != nil {
					err = fmt.Errorf("encode %s: %w", key, err)
					return false
				}
			}
			if n > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n" + viewJSONPrefix)
			bw.Write(raw)
			n++
			return true
		})
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString("\n  ")
		}
		bw.WriteString("]")
		return nil
	}
	var spoolErr error
	decoded := func(kind store.Kind) func(yield func(any, json.RawMessage) bool) {
		return func(yield func(any, json.RawMessage) bool) {
			for _, it := range inv.Items {
				if it.Kind != kind || !it.Decoded() {
					continue
				}
				raw, err := inv.Encoded(it)
				if err != nil {
					spoolErr = fmt.Errorf("%s: %w", it.Name, err)
					return
				}
				if !yield(it.ViewElement(), raw) {
					return
				}
			}
		}
	}
	for _, err := range []error{
		section("workers", decoded(store.KindWorker)),
		section("activeapps", decoded(store.KindApp)),
		section("activedrivers", decoded(store.KindDriver)),
		section("undecodable", func(yield func(any, json.RawMessage) bool) {
			for _, it := range inv.Items {
				if !it.Decoded() && !yield(it.Problem(), nil) {
					return
				}
			}
		}),
		section("foreign", func(yield func(any, json.RawMessage) bool) {
			for _, e := range inv.Foreign {
				if !yield(inventory.Foreign{Name: e.Name, Size: e.Size}, nil) {
					return
				}
			}
		}),
	} {
		if err != nil {
			return err
		}
		if spoolErr != nil {
			return spoolErr
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
