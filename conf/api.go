package conf

// API contract (stubs to be filled in by the conf implementation; the signatures are what the
// rest of klassik uses).

// Listener is one entry of listeners or advertised.listeners: NAME://host:port.
type Listener struct {
	Name string // e.g. "PLAINTEXT", "INTERNAL"
	Host string // may be "" (all interfaces) in listeners
	Port int32
}

// Default returns Kafka's defaults.
func Default() *Config { panic("unimplemented") }

// Load reads the TOML file at path (path may be "" for defaults only), then applies the
// KAFKA_* variables found in environ (os.Environ() form), then overrides ("key=value" with
// Kafka's property names), then validates. Errors name the key and what is allowed; an
// unknown key names the closest known one.
func Load(path string, environ []string, overrides []string) (*Config, error) {
	panic("unimplemented")
}

// Validate checks every value and their combinations.
func (c *Config) Validate() error { panic("unimplemented") }

// ListenerList parses Listeners.
func (c *Config) ListenerList() ([]Listener, error) { panic("unimplemented") }

// AdvertisedListenerList parses AdvertisedListeners (or Listeners when unset); a listener
// with an empty host advertises the machine's hostname, as Kafka does.
func (c *Config) AdvertisedListenerList() ([]Listener, error) { panic("unimplemented") }

// LogDirList splits LogDirs on commas.
func (c *Config) LogDirList() []string { panic("unimplemented") }
