package codec

// The typed model of the three persisted classes. JSON names follow the
// Master's own /json view (JsonProtocol) where it has the value; fields it
// lacks get names in the same style. Transient fields (app state, executors,
// coresGranted, a worker's state and lastHeartbeat) are not in the records, so
// they are not here: the Master rebuilds them after recovery.
//
// Fields of classes a release does not have are nil, so JSON null: Spark 2.4
// has no resource scheduling, and its records give null resources and
// resource requirements where a 3.x record without any gives {} or []. Its
// /json has no such keys; the names it does have (memoryperslave) are the
// aliases inventory.AppView already carries.

// App is a persisted org.apache.spark.deploy.master.ApplicationInfo.
type App struct {
	ID        string `json:"id"`
	StartTime int64  `json:"starttime"`
	Name      string `json:"name"`
	User      string `json:"user"`
	// MemoryPerExecutor is desc.memoryPerExecutorMB: a field up to 3.2, and
	// from 3.4 on the "memory" request of the default resource profile
	// (1024 when absent), as ApplicationDescription computes it.
	MemoryPerExecutor int32 `json:"memoryperexecutor"`
	// ResourcesPerExecutor is desc.resourceReqsPerExecutor: a field up to 3.2,
	// from 3.4 on the custom (non cores/memory) executor requests of the
	// default profile, sorted by name. Nil before 3.0.
	ResourcesPerExecutor []ResourceRequirement `json:"resourcesperexecutor"`
	SubmitDate           string                `json:"submitdate"` // java.util.Date.toString in Options.Location
	SubmitDateMs         int64                 `json:"submitdatems"`
	MaxCores             *int32                `json:"maxcores"`
	RequestedCores       int32                 `json:"requestedcores"`
	DefaultCores         int32                 `json:"defaultcores"`
	CoresPerExecutor     *int32                `json:"coresperexecutor"`
	InitialExecutorLimit *int32                `json:"initialexecutorlimit"`
	RetryCount           int32                 `json:"retrycount"`
	AppUIURL             string                `json:"appuiurl"`
	EventLogDir          *string               `json:"eventlogdir"`
	EventLogCodec        *string               `json:"eventlogcodec"`
	Command              Command               `json:"command"`
	DefaultProfile       *ResourceProfile      `json:"defaultprofile,omitempty"`
	Driver               *Endpoint             `json:"driver"`
}

// Driver is a persisted org.apache.spark.deploy.master.DriverInfo.
type Driver struct {
	ID string `json:"id"`
	// StartTime is a string in the Master's JSON (startTime.toString), so it
	// is one here too.
	StartTime    int64  `json:"starttime,string"`
	SubmitDate   string `json:"submitdate"`
	SubmitDateMs int64  `json:"submitdatems"`
	Cores        int32  `json:"cores"`
	Memory       int32  `json:"memory"`
	// MainClass is command.arguments(2), the user's class, as JsonProtocol
	// shows it; the command's own main class is DriverWrapper.
	MainClass string `json:"mainclass"`
	// Resources and ResourceReqs are nil before 3.0.
	Resources    map[string]ResourceInformation `json:"resources"`
	Supervise    bool                           `json:"supervise"`
	JarURL       string                         `json:"jarurl"`
	ResourceReqs []ResourceRequirement          `json:"resourcereqs"`
	Command      Command                        `json:"command"`
}

// Worker is a persisted org.apache.spark.deploy.master.WorkerInfo.
type Worker struct {
	ID           string                    `json:"id"`
	Host         string                    `json:"host"`
	Port         int32                     `json:"port"`
	WebUIAddress string                    `json:"webuiaddress"`
	Cores        int32                     `json:"cores"`
	Memory       int32                     `json:"memory"`
	Resources    map[string]WorkerResource `json:"resources"` // nil before 3.0
	Endpoint     *Endpoint                 `json:"endpoint"`
}

// Command is org.apache.spark.deploy.Command.
type Command struct {
	MainClass          string            `json:"mainclass"`
	Arguments          []string          `json:"arguments"`
	Environment        map[string]string `json:"environment"`
	ClassPathEntries   []string          `json:"classpathentries"`
	LibraryPathEntries []string          `json:"librarypathentries"`
	JavaOpts           []string          `json:"javaopts"`
}

// Endpoint is the persisted part of a NettyRpcEndpointRef (the app's driver,
// the worker's endpoint): its RpcEndpointAddress, plus the ask settings the
// base class RpcEndpointRef carries.
type Endpoint struct {
	Host string `json:"host"`
	Port int32  `json:"port"`
	Name string `json:"name"`
	// Address is the RpcEndpointAddress text, spark://name@host:port.
	Address     string `json:"address,omitempty"`
	AskTimeout  string `json:"asktimeout,omitempty"` // e.g. "120 seconds"
	TimeoutProp string `json:"timeoutprop,omitempty"`
	MaxRetries  *int32 `json:"maxretries,omitempty"`  // up to 3.x
	RetryWaitMs *int64 `json:"retrywaitms,omitempty"` // up to 3.x
}

// ResourceRequirement is org.apache.spark.resource.ResourceRequirement; JSON
// as JsonProtocol.writeResourceRequirement, plus numparts.
type ResourceRequirement struct {
	Name     string `json:"name"`
	Amount   int64  `json:"amount"`
	NumParts int32  `json:"numparts,omitempty"`
}

// ResourceInformation is org.apache.spark.resource.ResourceInformation.
type ResourceInformation struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
}

// WorkerResource is org.apache.spark.deploy.master.WorkerResourceInfo: a
// ResourceInformation plus, once the Master has allocated from it, the
// availability it keeps per address.
type WorkerResource struct {
	Name         string           `json:"name"`
	Addresses    []string         `json:"addresses"`
	Availability map[string]int64 `json:"availability,omitempty"`
}

// ResourceProfile is org.apache.spark.resource.ResourceProfile (3.1+).
type ResourceProfile struct {
	ID                   int32                              `json:"id"`
	ExecutorResources    map[string]ExecutorResourceRequest `json:"executorresources"`
	TaskResources        map[string]TaskResourceRequest     `json:"taskresources"`
	ExecutorSlotsPerAddr map[string]int64                   `json:"executorresourceslotsperaddr,omitempty"`
	LimitingResource     *string                            `json:"limitingresource,omitempty"`
	MaxTasksPerExecutor  *int32                             `json:"maxtasksperexecutor,omitempty"`
	CoresLimitKnown      bool                               `json:"coreslimitknown"`
}

// ExecutorResourceRequest is org.apache.spark.resource.ExecutorResourceRequest.
type ExecutorResourceRequest struct {
	ResourceName    string `json:"resourcename"`
	Amount          int64  `json:"amount"`
	DiscoveryScript string `json:"discoveryscript"`
	Vendor          string `json:"vendor"`
}

// TaskResourceRequest is org.apache.spark.resource.TaskResourceRequest.
type TaskResourceRequest struct {
	ResourceName string  `json:"resourcename"`
	Amount       float64 `json:"amount"`
}

// UnknownField is a field present in a record that the model does not know,
// kept in the generic form of Plain so that nothing in a record is hidden.
type UnknownField struct {
	Path  string `json:"path"`  // e.g. "desc.command.newField"
	Class string `json:"class"` // declaring class
	Type  string `json:"type"`  // Java type name
	Value any    `json:"value"`
}

// builtinExecutorResources are the executor requests ResourceProfile treats as
// built in; the rest are the "custom" resources JsonProtocol lists.
var builtinExecutorResources = map[string]bool{
	"cores": true, "memory": true, "memoryOverhead": true, "pyspark.memory": true, "offHeap": true,
}
