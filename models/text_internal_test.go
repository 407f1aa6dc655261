package models

import (
	"sync"
	"testing"

	"gorm.io/gorm/schema"
)

// TestClippedColumnSizes holds the sizes the store cuts text to (clipBytes)
// to the size tags of their columns.
func TestClippedColumnSizes(t *testing.T) {
	for _, tc := range []struct {
		model any
		field string
		size  int
	}{
		{&Inbound{}, "LastError", lastErrorSize},
		{&OutboxMessage{}, "LastError", lastErrorSize},
		{&JobRun{}, "Summary", jobSummarySize},
		{&JobRun{}, "Error", jobErrorSize},
	} {
		s, err := schema.Parse(tc.model, &sync.Map{}, schema.NamingStrategy{})
		if err != nil {
			t.Fatal(err)
		}
		f := s.LookUpField(tc.field)
		if f == nil {
			t.Errorf("%s has no field %s", s.Name, tc.field)
			continue
		}
		if f.Size != tc.size {
			t.Errorf("%s.%s: column size %d, the store cuts to %d", s.Name, tc.field, f.Size, tc.size)
		}
	}
}

func TestClipBytes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abcdef", 3, "abc"},
		{"雁阵效应", 6, "雁阵"}, // 3 bytes a character
		{"雁阵效应", 7, "雁阵"}, // never half a character
		{"雁阵效应", 2, ""},
		{"", 0, ""},
	} {
		if got := ClipBytes(tc.s, tc.n); got != tc.want {
			t.Errorf("ClipBytes(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
