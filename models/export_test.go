package models

// InboundColumns exports inboundColumns to the tests.
const InboundColumns = inboundColumns

// WithoutReturning makes s store callbacks as it does on a MySQL, which has
// no INSERT … RETURNING.
func WithoutReturning(s *Store) { s.returning = false }
