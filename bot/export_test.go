package bot

import "time"

// LeaseKey is the KV key of the long connection's lease, for tests.
const LeaseKey = leaseKey

// Crash stops b as a killed process stops, as far as the long connection
// goes: its connection drops and its lease is left to run out.
func (b *Bot) Crash() {
	if b.aibot != nil {
		b.aibot.mu.Lock()
		b.aibot.crashed = true
		b.aibot.mu.Unlock()
	}
}

// SetStoreWait shortens the time a callback waits for the store, so that a
// test of a stalled database does not wait the real three seconds.
func SetStoreWait(b *Bot, d time.Duration) { b.storeWait = d }
