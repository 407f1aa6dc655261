package models

import (
	"strings"
	"unicode/utf8"
)

// ellipsis marks text that ClipRunes cut.
const ellipsis = "…"

// ClipRunes fits s into at most n characters (runes) for people to read: s
// itself when it fits, else its first n-1 characters and an ellipsis (…). n <= 0
// gives "".
func ClipRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, kept := 0, 0
	for kept < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		kept++
	}
	return s[:i] + ellipsis
}

// OneLine puts s on one line: every run of blanks and line breaks becomes
// one space, and none is left at either end.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ClipBytes returns the longest prefix of s of at most n bytes that does not
// cut a UTF-8 character, unmarked: it fits text into a column or a byte limit.
func ClipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Sizes of the store's text columns that the store cuts text to fit
// (clipBytes); the size tags of the fields say the same, and a test holds
// them to it.
const (
	// lastErrorSize is the size of the last error kept on an inbound message
	// (Inbound.LastError) and on an outbox row (OutboxMessage.LastError).
	lastErrorSize = 512
	// jobSummarySize is the size of a job run's one-line summary (JobRun.Summary).
	jobSummarySize = 512
	// jobErrorSize is the size of a job run's error (JobRun.Error).
	jobErrorSize = 1024
)
