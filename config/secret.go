package config

import "fmt"

// Secret holds a credential (corp secret, callback token, AES key, admin token).
// Every way of printing it — fmt verbs, YAML, JSON, text — yields a mask, so a
// Secret can be logged or dumped by accident without leaking. Reveal returns the
// value for the one place that must send it.
type Secret string

const secretMask = "******"

// Reveal returns the secret value. Call it only where the value is sent to WeCom
// or compared; never pass the result to a logger or an error message.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String returns a mask, or the empty string when the secret is unset.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// GoString masks the value under %#v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format masks the value under every fmt verb, including %s, %v, %q and %x.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// MarshalText masks the value in YAML, JSON and any text encoding.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the value from a config file or an environment variable.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = Secret(b)
	return nil
}
