package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// StringList is a list of strings kept in one text column as a JSON array.
// It is used for short lists that are read whole: aliases, mentions, ticket numbers.
type StringList []string

// Value encodes the list as a JSON array; an empty list is "[]".
func (l StringList) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan decodes a JSON array written by Value.
func (l *StringList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("models: cannot scan %T into StringList", src)
	}
	if len(b) == 0 {
		*l = nil
		return nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("models: scan StringList: %w", err)
	}
	*l = out
	return nil
}

// GormDataType declares the column type: text on every database.
func (StringList) GormDataType() string { return "text" }

// Contains reports whether s is in the list.
func (l StringList) Contains(s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
