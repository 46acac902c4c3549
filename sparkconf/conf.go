package sparkconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/recoverctl/recoverctl/regularfile"
)

// File names Spark looks for in the conf directory.
const (
	EnvFileName      = "spark-env.sh"
	DefaultsFileName = "spark-defaults.conf"
	JavaOptsFileName = "java-opts"
)

// The launcher variables whose -D options reach the Master's JVM, in the
// order SparkClassCommandBuilder puts them on the java command line.
const (
	VarDaemonJavaOpts = "SPARK_DAEMON_JAVA_OPTS"
	VarMasterOpts     = "SPARK_MASTER_OPTS"
)

// SourceEnvironment is Source.File for text that came from the process
// environment rather than from a file.
const SourceEnvironment = "environment"

var (
	// ErrNoConfDir means neither SPARK_CONF_DIR nor SPARK_HOME is set, so
	// there is no way to know which conf directory a Master would read.
	ErrNoConfDir = errors.New("neither SPARK_CONF_DIR nor SPARK_HOME is set")
	// ErrNoConfFiles means the conf directory holds none of the files a
	// Master reads and the environment carries no Master options either:
	// most likely the wrong directory.
	ErrNoConfFiles = errors.New("no Spark Master configuration found")
)

// FileError is a problem with one configuration file or directory.
type FileError struct {
	Path string
	Line int // 1-based; 0 when the problem is not on one line
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Source says where a value came from. The zero Source means Spark's
// built-in default.
type Source struct {
	File string // file base name (or path for --properties-file), or SourceEnvironment
	Line int    // 1-based line in File; 0 when not from a file line
	Var  string // launcher variable that carried a -D option, e.g. SPARK_DAEMON_JAVA_OPTS
}

// IsDefault reports whether s is the zero Source (Spark's default).
func (s Source) IsDefault() bool { return s == Source{} }

// String renders s as "spark-env.sh:12 SPARK_DAEMON_JAVA_OPTS".
func (s Source) String() string {
	if s.IsDefault() {
		return "default"
	}
	var b strings.Builder
	b.WriteString(s.File)
	if s.Line > 0 {
		b.WriteString(":" + strconv.Itoa(s.Line))
	}
	if s.Var != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.Var)
	}
	return b.String()
}

// Setting is one key's effective value.
type Setting struct {
	Key    string
	Value  string
	Source Source
	// Shadowed lists the other definitions of Key that lost to this one,
	// in the order they were read.
	Shadowed []Setting
}

// Warning is something a reader of the configuration should know but that
// does not stop it from being resolved.
type Warning struct {
	Source  Source
	Message string
}

func (w Warning) String() string {
	if w.Source.IsDefault() {
		return w.Message
	}
	return w.Source.String() + ": " + w.Message
}

// Options adjusts Load for how the Master was started.
type Options struct {
	// PropertiesFile is the Master's --properties-file argument; it
	// replaces spark-defaults.conf and must exist.
	PropertiesFile string
}

// Conf is the configuration a Master started from one conf directory sees.
type Conf struct {
	Dir            string // conf directory read
	EnvFile        string // path of spark-env.sh read; "" if none was read
	JavaOptsFile   string // path of conf/java-opts read; "" if absent
	PropertiesFile string // path of the properties file read; "" if none
	Warnings       []Warning

	spark  map[string]Setting // what the Master's SparkConf holds
	system map[string]Setting // every -D system property, spark.* or not
}

// Get returns the effective SparkConf value of key.
func (c *Conf) Get(key string) (Setting, bool) {
	s, ok := c.spark[key]
	return s, ok
}

// Value returns the effective value of key, or def when it is not set.
func (c *Conf) Value(key, def string) string {
	if s, ok := c.spark[key]; ok {
		return s.Value
	}
	return def
}

// SystemProperty returns a JVM system property set with -D, including the
// non-spark.* ones (JAAS, ZooKeeper client) that SparkConf never holds.
func (c *Conf) SystemProperty(key string) (Setting, bool) {
	s, ok := c.system[key]
	return s, ok
}

// Keys returns the SparkConf keys that are set, sorted.
func (c *Conf) Keys() []string {
	return sortedKeys(c.spark)
}

// SystemPropertyKeys returns the -D property names that are set, sorted.
func (c *Conf) SystemPropertyKeys() []string {
	return sortedKeys(c.system)
}

func sortedKeys(m map[string]Setting) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FindDir returns the conf directory Spark's scripts would use:
// $SPARK_CONF_DIR, else $SPARK_HOME/conf. Empty values count as unset, as
// they do for both the scripts (${VAR:-...}) and the launcher.
func FindDir(env func(string) string) (string, error) {
	env = orEmptyEnv(env)
	if d := env("SPARK_CONF_DIR"); d != "" {
		return d, nil
	}
	if h := env("SPARK_HOME"); h != "" {
		return filepath.Join(h, "conf"), nil
	}
	return "", fmt.Errorf("find Spark conf directory: %w: set SPARK_CONF_DIR to the Master's conf directory or SPARK_HOME to its Spark installation", ErrNoConfDir)
}

// Load reads the Master configuration in dir. env stands for the
// environment the Master is started from (os.Getenv in production); it
// supplies variables spark-env.sh expands and any SPARK_*_OPTS set outside it.
func Load(dir string, env func(string) string) (*Conf, error) {
	return LoadWithOptions(dir, env, Options{})
}

// LoadWithOptions is Load for a Master started with extra arguments.
func LoadWithOptions(dir string, env func(string) string, opts Options) (*Conf, error) {
	env = orEmptyEnv(env)
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &FileError{Path: dir, Err: fmt.Errorf("spark conf directory: %w", err)}
	}
	if !st.IsDir() {
		return nil, &FileError{Path: dir, Err: errors.New("spark conf directory is not a directory")}
	}
	c := &Conf{Dir: dir, spark: map[string]Setting{}, system: map[string]Setting{}}

	sh := newShell(EnvFileName, env)
	// load-spark-env.sh exports SPARK_CONF_DIR before sourcing spark-env.sh,
	// so scripts that refer to it see this directory.
	sh.seed("SPARK_CONF_DIR", dir)
	envPath := filepath.Join(dir, EnvFileName)
	data, err := c.readOptional(envPath, EnvFileName)
	if err != nil {
		return nil, err
	}
	if data != nil {
		if env("SPARK_ENV_LOADED") != "" {
			// load-spark-env.sh sources spark-env.sh only once per process tree.
			c.Warnings = append(c.Warnings, Warning{Source: Source{File: SourceEnvironment, Var: "SPARK_ENV_LOADED"},
				Message: "SPARK_ENV_LOADED is set, so Spark's scripts skip spark-env.sh; it was not read"})
		} else {
			c.EnvFile = envPath
			sh.run(data)
			c.Warnings = append(c.Warnings, sh.warnings...)
		}
	}

	javaOptsPath := filepath.Join(dir, JavaOptsFileName)
	jdata, err := c.readOptional(javaOptsPath, JavaOptsFileName)
	if err != nil {
		return nil, err
	}
	if jdata != nil {
		c.JavaOptsFile = javaOptsPath
		for i, line := range javaOptsLines(jdata) {
			c.applyOptions(spanOf(line, i+1), Source{File: JavaOptsFileName})
		}
	}
	for _, v := range []string{VarDaemonJavaOpts, VarMasterOpts} {
		val, _ := sh.lookup(v)
		c.applyOptions(val, Source{File: EnvFileName, Var: v})
	}
	for k, s := range c.system {
		if strings.HasPrefix(k, "spark.") {
			c.spark[k] = s
		}
	}

	if propsPath := opts.PropertiesFile; propsPath != "" {
		data, err := regularfile.ReadFile(propsPath, MaxFileSize)
		if err != nil {
			return nil, &FileError{Path: propsPath, Err: fmt.Errorf("properties file: %w", err)}
		}
		if err := c.loadDefaults(propsPath, propsPath, data); err != nil {
			return nil, err
		}
	} else {
		// Spark's getDefaultPropertiesFile skips a missing or non-regular
		// spark-defaults.conf.
		propsPath = filepath.Join(dir, DefaultsFileName)
		data, err := c.readOptional(propsPath, DefaultsFileName)
		if err != nil {
			return nil, err
		}
		if data != nil {
			if err := c.loadDefaults(propsPath, DefaultsFileName, data); err != nil {
				return nil, err
			}
		}
	}

	if c.EnvFile == "" && c.JavaOptsFile == "" && c.PropertiesFile == "" &&
		env(VarDaemonJavaOpts) == "" && env(VarMasterOpts) == "" {
		return nil, &FileError{Path: dir, Err: fmt.Errorf("%w: neither %s nor %s exists and %s/%s are not set in the environment",
			ErrNoConfFiles, EnvFileName, DefaultsFileName, VarDaemonJavaOpts, VarMasterOpts)}
	}
	return c, nil
}

func orEmptyEnv(env func(string) string) func(string) string {
	if env == nil {
		return func(string) string { return "" }
	}
	return env
}

// MaxFileSize bounds each configuration file read (spark-env.sh,
// java-opts, spark-defaults.conf, a properties file): honest ones are a few
// KB. A larger file is refused before more than MaxFileSize+1 bytes of it
// are read.
const MaxFileSize = 4 << 20

// readOptional reads a file of the conf directory as Spark's scripts and
// launcher find it: nil, nil when it does not exist or is no regular file
// (load-spark-env.sh tests spark-env.sh with -f, the launcher java-opts and
// spark-defaults.conf with File.isFile), the latter with a warning. It is
// opened without blocking, so a FIFO never hangs the read.
func (c *Conf) readOptional(path, name string) ([]byte, error) {
	data, err := regularfile.ReadFile(path, MaxFileSize)
	switch {
	case err == nil:
		if data == nil {
			data = []byte{}
		}
		return data, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, regularfile.ErrNotRegular):
		c.Warnings = append(c.Warnings, Warning{Source: Source{File: name},
			Message: fmt.Sprintf("%v; Spark skips it, and so did recoverctl", err)})
		return nil, nil
	default:
		return nil, &FileError{Path: path, Err: err}
	}
}

// applyOptions adds the -D options of one option string to the system
// properties; a later definition replaces an earlier one, as in the JVM.
func (c *Conf) applyOptions(opts span, base Source) {
	if len(opts.b) == 0 {
		return
	}
	toks, err := splitJavaOptions(opts)
	if err != nil {
		c.Warnings = append(c.Warnings, Warning{Source: c.optSource(base, opts.lineAt(0)),
			Message: fmt.Sprintf("%v; Spark's launcher rejects it and the Master does not start", err)})
	}
	for _, t := range toks {
		src := c.optSource(base, t.line)
		switch {
		case strings.HasPrefix(t.text, "-D"):
			key, val, _ := strings.Cut(t.text[2:], "=")
			if key == "" {
				c.Warnings = append(c.Warnings, Warning{Source: src, Message: fmt.Sprintf("%q names no property", t.text)})
				continue
			}
			s := Setting{Key: key, Value: val, Source: src}
			if prev, ok := c.system[key]; ok {
				s.Shadowed = append(append([]Setting{}, prev.Shadowed...), withoutShadowed(prev))
			}
			c.system[key] = s
		case strings.HasPrefix(t.text, "-"):
			// A JVM flag such as -Xmx or -XX:...; nothing to do with SparkConf.
		default:
			c.Warnings = append(c.Warnings, Warning{Source: src, Message: fmt.Sprintf(
				"%q is not a JVM option; java would take it as the main class and the Master would not start", t.text)})
		}
	}
}

// optSource places an option: line 0 means its text came from the
// environment rather than from a line of the file.
func (c *Conf) optSource(base Source, line int) Source {
	if line <= 0 {
		return Source{File: SourceEnvironment, Var: base.Var}
	}
	return Source{File: base.File, Line: line, Var: base.Var}
}

func withoutShadowed(s Setting) Setting {
	s.Shadowed = nil
	return s
}

// loadDefaults mirrors Utils.loadDefaultSparkProperties: only spark.* keys
// are taken, and only when no -D option already set them.
func (c *Conf) loadDefaults(path, name string, data []byte) error {
	props, err := parseProperties(data)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return &FileError{Path: path, Line: le.line, Err: fmt.Errorf("%w (Spark fails to load this file, so the Master does not start)", le.err)}
		}
		return &FileError{Path: path, Err: err}
	}
	c.PropertiesFile = path

	fromFile := map[string]Setting{}
	var order []string
	for _, p := range props {
		src := Source{File: name, Line: p.line}
		s := Setting{Key: p.key, Value: trimExceptCRLF(p.value), Source: src}
		if prev, ok := fromFile[p.key]; ok {
			s.Shadowed = append(append([]Setting{}, prev.Shadowed...), withoutShadowed(prev))
		} else {
			order = append(order, p.key)
		}
		fromFile[p.key] = s
	}
	for _, k := range order {
		s := fromFile[k]
		if !strings.HasPrefix(k, "spark.") {
			c.Warnings = append(c.Warnings, Warning{Source: s.Source, Message: fmt.Sprintf(
				"%s is ignored: Spark takes only spark.* keys from %s (a JVM property belongs in %s as -D%s=...)", k, name, VarDaemonJavaOpts, k)})
			continue
		}
		if win, ok := c.spark[k]; ok {
			win.Shadowed = append(win.Shadowed, s.Shadowed...)
			win.Shadowed = append(win.Shadowed, withoutShadowed(s))
			c.spark[k] = win
			continue
		}
		c.spark[k] = s
	}
	return nil
}

// trimExceptCRLF trims like Java's String.trim but keeps \r and \n, which can
// only be left in a value by an explicit escape (Spark 2.4+ behaviour).
func trimExceptCRLF(s string) string {
	cut := func(r byte) bool { return r <= ' ' && r != '\r' && r != '\n' }
	i, j := 0, len(s)
	for i < j && cut(s[i]) {
		i++
	}
	for j > i && cut(s[j-1]) {
		j--
	}
	return s[i:j]
}
