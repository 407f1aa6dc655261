package tickets

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"yanzhen/models"
	"yanzhen/sheet"
)

// record is one row to import: a sheet.Row, or one object of a JSON array.
type record interface {
	Get(field string) string
	Column(field string) string
}

// ImportFile imports an xlsx or csv export; name (the file name) and the
// content tell the format. Columns missing from the file, and empty cells,
// leave the stored values as they are. A row is refused, with its row
// number, column and reason, for a missing number, an unknown department or
// grid (by name or alias, with or without the district's name in front), an
// unreadable date, status, answer or count, a new ticket without a receipt
// time, or a row over the Limits (too long, a cell too long, too many
// columns, an unclosed quote); the good rows land all the same. A file that
// cannot be read at all (no 工单编号 column, not a workbook, over the size
// limit) is an EINVALID error with the reason; so is a file that breaks off
// midway, returned with the summary of the rows before. o.Name names the file
// (its extension tells the format), o.Actor is recorded on the events; the
// import is recorded with its outcome (see Origin). A number on several rows
// applies them in order. A cancelled ctx ends the import with its error and
// the summary of the rows written before.
func (s *Service) ImportFile(ctx context.Context, r io.Reader, o Origin) (*Summary, error) {
	return s.record(ctx, o, func() (*Summary, error) { return s.importFile(ctx, r, o.Name, o.Actor) })
}

func (s *Service) importFile(ctx context.Context, r io.Reader, name, actor string) (*Summary, error) {
	rd, err := sheet.Open(r, sheet.Options{Name: name, Columns: Columns, Required: []string{FieldNumber}, Limits: s.Limits})
	if err != nil {
		return nil, userError(err)
	}
	defer rd.Close()
	return s.run(ctx, actor, func() (int, record, error) {
		row, err := rd.Next()
		var se *sheet.Error
		switch {
		case errors.As(err, &se) && se.Row > 0:
			return 0, nil, se // a refused row; the reading goes on
		case err != nil:
			return 0, nil, userError(err)
		}
		return row.Num, row, nil
	})
}

// ImportJSON imports a JSON array of objects keyed by field name (number,
// received_at, …) or by any header name of Columns (工单编号, 受理时间, …).
// Values are strings, numbers, booleans or null; times are text in any form
// sheet.ParseTime reads, e.g. RFC 3339 or "2026-11-20 09:30:00". Row numbers
// in errors count the objects from 1; an item that is not an object is a
// refused row. The array is decoded as a stream: invalid JSON stops the import
// where it is (check it first to import all or nothing). The import is
// recorded as ImportFile's is.
func (s *Service) ImportJSON(ctx context.Context, r io.Reader, o Origin) (*Summary, error) {
	return s.record(ctx, o, func() (*Summary, error) { return s.importJSON(ctx, r, o.Actor) })
}

func (s *Service) importJSON(ctx context.Context, r io.Reader, actor string) (*Summary, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, models.Errorf(models.EINVALID, "请求体应为工单 JSON 数组")
	}
	n := 0
	return s.run(ctx, actor, func() (int, record, error) {
		if !dec.More() {
			return 0, nil, io.EOF
		}
		n++
		var item any
		if err := dec.Decode(&item); err != nil {
			return 0, nil, models.Errorf(models.EINVALID, "第 %d 条不是有效的 JSON", n)
		}
		obj, ok := item.(map[string]any)
		if !ok {
			return 0, nil, &sheet.Error{Row: n, Reason: "应为 JSON 对象"}
		}
		return n, newJSONRecord(obj), nil
	})
}

// userError turns a *sheet.Error into an EINVALID application error with its text.
func userError(err error) error {
	var se *sheet.Error
	if errors.As(err, &se) {
		return &models.Error{Code: models.EINVALID, Message: se.Error()}
	}
	return err
}

// jsonRecord is a JSON object as a record; Column names a field by the key the
// object used.
type jsonRecord struct {
	values map[string]string
	keys   map[string]string
}

func newJSONRecord(obj map[string]any) jsonRecord {
	rec := jsonRecord{values: map[string]string{}, keys: map[string]string{}}
	for k, v := range obj {
		field, ok := fieldOf[sheet.HeaderKey(k)]
		if !ok {
			continue
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = map[bool]string{true: "是", false: "否"}[v]
		case nil:
		default:
			b, _ := json.Marshal(v)
			s = string(b)
		}
		rec.values[field], rec.keys[field] = strings.TrimSpace(s), k
	}
	return rec
}

func (r jsonRecord) Get(field string) string { return r.values[field] }

func (r jsonRecord) Column(field string) string {
	if k, ok := r.keys[field]; ok {
		return k
	}
	return field
}
