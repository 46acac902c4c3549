package backup

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WriteMetrics writes the Prometheus textfile (node_exporter's textfile
// collector) for a successful backup: last success time, duration, record
// count, record bytes and archive bytes, labelled with the store kind. The
// file is replaced atomically; call it only after a success, so that the
// last success time stays put when a backup fails and alerts can fire on
// its age.
func WriteMetrics(path string, info Info, sum Summary, finished time.Time) error {
	label := fmt.Sprintf(`{store=%s}`, quoteLabel(info.StoreKind))
	var b bytes.Buffer
	gauge := func(name, help, value string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s%s %s\n", name, help, name, name, label, value)
	}
	gauge("recoverctl_backup_last_success_timestamp_seconds", "Unix time the last successful backup finished.",
		strconv.FormatFloat(float64(finished.UnixMilli())/1e3, 'f', 3, 64))
	gauge("recoverctl_backup_duration_seconds", "Duration of the last successful backup.",
		strconv.FormatFloat(sum.Duration.Seconds(), 'f', 3, 64))
	gauge("recoverctl_backup_records", "Records in the last successful backup.", strconv.Itoa(sum.Records))
	gauge("recoverctl_backup_record_bytes", "Record bytes (uncompressed) in the last successful backup.",
		strconv.FormatInt(sum.Bytes, 10))
	gauge("recoverctl_backup_archive_bytes", "Size of the last successful backup archive.",
		strconv.FormatInt(sum.ArchiveBytes, 10))

	// node_exporter runs as another user and must read the file.
	f, err := createTemp(filepath.Dir(path), filepath.Base(path), 0o644)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("metrics: %w", err)
	}
	if err := publish(f.Name(), path, true); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// quoteLabel quotes a label value as the exposition format wants.
func quoteLabel(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
