package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/recoverctl/recoverctl/internal/inventory"
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

// writeViewJSON streams the /json-shaped view one element at a time, so
// that printing 100,000 records never holds the whole document twice.
func writeViewJSON(w io.Writer, v inventory.View) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "{\n  \"store\": %s", mustJSON(v.Store))
	section := func(key string, n int, elem func(int) any) error {
		fmt.Fprintf(bw, ",\n  %q: [", key)
		for i := range n {
			b, err := json.MarshalIndent(elem(i), "    ", "  ")
			if err != nil {
				return fmt.Errorf("encode %s: %w", key, err)
			}
			if i > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n    ")
			bw.Write(b)
		}
		if n > 0 {
			bw.WriteString("\n  ")
		}
		bw.WriteString("]")
		return nil
	}
	for _, err := range []error{
		section("workers", len(v.Workers), func(i int) any { return v.Workers[i] }),
		section("activeapps", len(v.ActiveApps), func(i int) any { return v.ActiveApps[i] }),
		section("activedrivers", len(v.ActiveDrivers), func(i int) any { return v.ActiveDrivers[i] }),
		section("undecodable", len(v.Undecodable), func(i int) any { return v.Undecodable[i] }),
		section("foreign", len(v.Foreign), func(i int) any { return v.Foreign[i] }),
	} {
		if err != nil {
			return err
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
