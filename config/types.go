package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Clock is a time of day such as 17:30, written "HH:MM" in the config.
type Clock struct {
	Hour, Minute int
}

// ParseClock reads "HH:MM" (24-hour). It rejects anything else.
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Clock{}, fmt.Errorf("%q is not HH:MM", s)
	}
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || len(m) != 2 || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return Clock{}, fmt.Errorf("%q is not HH:MM", s)
	}
	return Clock{Hour: hour, Minute: minute}, nil
}

// MustClock is ParseClock for literals known to be valid; it panics otherwise.
func MustClock(s string) Clock {
	c, err := ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

// String formats the clock as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// On returns the instant at this clock time on the calendar day of t, in t's location.
func (c Clock) On(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, c.Hour, c.Minute, 0, 0, t.Location())
}

// Minutes returns the minutes since midnight.
func (c Clock) Minutes() int { return c.Hour*60 + c.Minute }

// MarshalText writes "HH:MM".
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads "HH:MM".
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Unit is the unit of a Span.
type Unit string

// The units a Span may be counted in.
const (
	Workdays Unit = "wd" // working days on the Chinese calendar
	Days     Unit = "d"  // calendar days
	Hours    Unit = "h"  // calendar hours
)

// Span is a signed amount of time counted in working days, calendar days or
// hours: "5wd", "3d", "24h", "-1wd", "0". Time limits and escalation offsets use it.
type Span struct {
	N    int
	Unit Unit
}

// ParseSpan reads a Span. "0" alone means zero working days.
func ParseSpan(s string) (Span, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return Span{Unit: Workdays}, nil
	}
	for _, u := range []Unit{Workdays, Days, Hours} {
		if num, ok := strings.CutSuffix(s, string(u)); ok {
			n, err := strconv.Atoi(num)
			if err != nil {
				break
			}
			return Span{N: n, Unit: u}, nil
		}
	}
	return Span{}, fmt.Errorf("%q is not a span such as 5wd, 3d or 24h", s)
}

// MustSpan is ParseSpan for literals known to be valid; it panics otherwise.
func MustSpan(s string) Span {
	v, err := ParseSpan(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String formats the span as it is written in the config.
func (s Span) String() string { return strconv.Itoa(s.N) + string(s.Unit) }

// Chinese renders the span for users: "5个工作日", "3天", "24小时".
func (s Span) Chinese() string {
	switch s.Unit {
	case Workdays:
		return strconv.Itoa(s.N) + "个工作日"
	case Days:
		return strconv.Itoa(s.N) + "天"
	default:
		return strconv.Itoa(s.N) + "小时"
	}
}

// MarshalText writes the span as in the config.
func (s Span) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "5wd", "3d", "24h" or "0".
func (s *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Duration is a time.Duration written "10m", "24h" or 0 in the config.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as time.Duration formats it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "90s", "10m", "24h", or a bare 0.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 10m or 24h", s)
	}
	*d = Duration(v)
	return nil
}

// Size is a number of bytes written with a binary unit in the config:
// "200MB", "512KB", "1GB" (also "200M", "200 MiB"), or a bare number of bytes.
type Size int64

// Size units.
const (
	KB Size = 1 << 10
	MB Size = 1 << 20
	GB Size = 1 << 30
)

// ParseSize reads a Size.
func ParseSize(s string) (Size, error) {
	t := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	for _, u := range []struct {
		suffix string
		size   Size
	}{
		{"KIB", KB}, {"MIB", MB}, {"GIB", GB}, {"KB", KB}, {"MB", MB}, {"GB", GB}, {"K", KB}, {"M", MB}, {"G", GB}, {"B", 1}, {"", 1},
	} {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 || n > int64(1<<40/u.size) {
			break
		}
		return Size(n) * u.size, nil
	}
	return 0, fmt.Errorf("%q is not a size such as 200MB or 512KB", s)
}

// String formats the size with the largest unit it is a whole number of.
func (s Size) String() string {
	for _, u := range []struct {
		size Size
		name string
	}{{GB, "GB"}, {MB, "MB"}, {KB, "KB"}} {
		if s >= u.size && s%u.size == 0 {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalText writes the size as in the config.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "200MB", "512KB", "1GB" or a number of bytes.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// WorkdayAdder counts working days; *calendar.Calendar is one.
type WorkdayAdder interface {
	// AddWorkdays returns the deadline n working days after t.
	AddWorkdays(t time.Time, n int) time.Time
}

// From returns the time s after t: s.N working days on cal, calendar days
// at the same clock time, or hours.
func (s Span) From(t time.Time, cal WorkdayAdder) time.Time {
	switch s.Unit {
	case Workdays:
		return cal.AddWorkdays(t, s.N)
	case Days:
		return t.AddDate(0, 0, s.N)
	}
	return t.Add(time.Duration(s.N) * time.Hour)
}
