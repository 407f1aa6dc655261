// Package api is yanzhen's HTTP API for hotline platforms and administrators:
//
//	POST /api/v1/tickets         a JSON array of tickets, upserted by number, at most 20 MB
//	POST /api/v1/tickets/import  an xlsx or csv export: multipart/form-data (any file
//	                             field) or the raw body, at most import.max_file_size
//	GET  /api/v1/tickets/{number} one ticket with its events
//	GET  /api/v1/exports/{kind}  a workbook (ledger, overdue, ranking, reports) as
//	                             .xlsx, ?from=2006-01-02&to=2006-01-02 (default: this month)
//
// Every request needs "Authorization: Bearer <http.admin_token>" (401
// otherwise). With an empty admin_token the API is off: every path answers
// 404 with a message saying so, as if it did not exist. Answers are JSON;
// errors are {"error": "中文说明"} (paths and methods the API does not have get
// the standard 404 and 405).
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"go.uber.org/zap"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

// MaxJSONBody is the largest JSON body accepted: 20 MB.
const MaxJSONBody = 20 << 20

// multipartSlack is what a multipart body may carry besides the file: part
// headers and boundaries.
const multipartSlack = 64 << 10

// Options are what the API needs.
type Options struct {
	// Tickets imports tickets; its Store answers the reads, and its
	// Limits.FileBytes bounds uploaded files.
	Tickets *tickets.Service
	// Token is http.admin_token; empty turns the API off.
	Token config.Secret
	// Log receives failures; nothing is logged when nil. Tokens never are.
	Log *zap.Logger
	// Exports prepares the workbooks of /api/v1/exports; nil answers 404.
	Exports Exporter
}

type server struct {
	tickets *tickets.Service
	store   *models.Store
	token   [sha256.Size]byte
	enabled bool
	maxFile int64 // the largest upload
	log     *zap.Logger
	mux     *http.ServeMux
	exports Exporter
}

// New returns the API handler. Mount it for every path under /api/, e.g.
// mux.Handle("/api/", api.New(opts)).
func New(o Options) http.Handler {
	s := &server{tickets: o.Tickets, store: o.Tickets.Store, enabled: o.Token.IsSet(), log: o.Log, mux: http.NewServeMux(),
		maxFile: o.Tickets.Limits.OrDefaults().FileBytes, exports: o.Exports}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.token = sha256.Sum256([]byte(o.Token.Reveal()))
	s.mux.HandleFunc("POST /api/v1/tickets", s.postTickets)
	s.mux.HandleFunc("POST /api/v1/tickets/import", s.importTickets)
	s.mux.HandleFunc("GET /api/v1/tickets/{number}", s.getTicket)
	s.mux.HandleFunc("GET /api/v1/exports/{kind}", s.getExport)
	return s
}

// ServeHTTP checks the bearer token, then routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enabled {
		writeError(w, http.StatusNotFound, "接口未启用：请配置 http.admin_token")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yanzhen"`)
		writeError(w, http.StatusUnauthorized, "未授权：请在 Authorization 头中提供有效的 Bearer 令牌")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized compares the bearer token in constant time (of hashes, so the
// length leaks nothing either).
func (s *server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// actor is who API changes are recorded as.
const actor = "api"

func (s *server) postTickets(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > MaxJSONBody {
		s.tooLarge(w, MaxJSONBody)
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	switch {
	case isTooLarge(err) || len(b) > MaxJSONBody:
		s.tooLarge(w, MaxJSONBody)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "读取请求内容失败")
		return
	case len(b) == 0:
		writeError(w, http.StatusBadRequest, "请求内容为空")
		return
	case !json.Valid(b):
		writeError(w, http.StatusBadRequest, "请求体不是有效的 JSON")
		return
	}
	sum, err := s.tickets.ImportJSON(r.Context(), bytes.NewReader(b), tickets.Origin{Route: models.ImportAPI, Actor: actor})
	s.writeSummary(w, r, sum, err, "条")
}

func (s *server) importTickets(w http.ResponseWriter, r *http.Request) {
	name, f, ok := s.upload(w, r)
	if !ok {
		return
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	sum, err := s.tickets.ImportFile(r.Context(), f, tickets.Origin{Route: models.ImportAPI, Actor: actor, Name: name})
	s.writeSummary(w, r, sum, err, "行")
}

// upload copies the file of an import request to a temporary file, which
// the caller removes: the first file part of a multipart form, or the body
// itself. The name comes from the part, the filename query parameter or the
// content type, so that the format is known. The whole file is copied before
// anything is imported, so an oversized upload changes nothing, and memory
// holds none of it.
func (s *server) upload(w http.ResponseWriter, r *http.Request) (string, *os.File, bool) {
	if r.ContentLength > s.maxFile+multipartSlack {
		s.tooLarge(w, s.maxFile)
		return "", nil, false
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		f, ok := s.spool(w, r.Body)
		return uploadName(r, mediaType), f, ok
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxFile+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "无法解析上传的表单")
		return "", nil, false
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if isTooLarge(err) {
				s.tooLarge(w, s.maxFile)
			} else {
				writeError(w, http.StatusBadRequest, "表单中没有文件：请用 file 字段上传 xlsx 或 csv")
			}
			return "", nil, false
		}
		if part.FileName() == "" {
			_ = part.Close()
			continue
		}
		f, ok := s.spool(w, part)
		return part.FileName(), f, ok
	}
}

// uploadName names a raw upload so that its format is known: ?filename=,
// else by content type; "" lets the reader look at the bytes.
func uploadName(r *http.Request, mediaType string) string {
	if n := r.URL.Query().Get("filename"); n != "" {
		return n
	}
	switch mediaType {
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return "upload.xlsx"
	case "text/csv", "application/csv", "text/plain":
		return "upload.csv"
	}
	return ""
}

// spool copies at most s.maxFile bytes of body to a temporary file and
// rewinds it; more is answered 413, nothing 400.
func (s *server) spool(w http.ResponseWriter, body io.Reader) (*os.File, bool) {
	f, err := os.CreateTemp("", "yanzhen-upload-*")
	if err != nil {
		s.log.Error("api upload", zap.Error(err))
		writeError(w, http.StatusInternalServerError, "服务器暂时无法接收文件，请稍后重试")
		return nil, false
	}
	n, err := io.Copy(f, io.LimitReader(body, s.maxFile+1))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	ok := false
	switch {
	case isTooLarge(err) || n > s.maxFile:
		s.tooLarge(w, s.maxFile)
	case err != nil:
		writeError(w, http.StatusBadRequest, "读取请求内容失败")
	case n == 0:
		writeError(w, http.StatusBadRequest, "请求内容为空")
	default:
		ok = true
	}
	if !ok {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, false
	}
	return f, true
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func (s *server) tooLarge(w http.ResponseWriter, limit int64) {
	writeError(w, http.StatusRequestEntityTooLarge, sheet.TooLarge(limit).Reason)
}

// summaryJSON is the answer to an import.
type summaryJSON struct {
	// Error says why an import broke off midway; the counts are of the rows before.
	Error     string      `json:"error,omitempty"`
	Summary   string      `json:"summary"`
	Created   int         `json:"created"`
	Updated   int         `json:"updated"`
	Unchanged int         `json:"unchanged"`
	Failed    int         `json:"failed"`
	Errors    []errorJSON `json:"errors"`
	// Truncated says that only the first of the Failed rows are listed.
	Truncated bool `json:"errors_truncated"`
	// Unknown lists the unit names no department has, once each with its rows.
	Unknown []unknownJSON `json:"unknown_units"`
}

// unknownJSON is a unit name no department has, with the rows that wrote it
// and the advice for users.
type unknownJSON struct {
	Column  string `json:"column"`
	Name    string `json:"name"`
	Rows    int    `json:"rows"`
	Message string `json:"message"`
}

// errorJSON is one refused row. Row counts file rows as Excel shows them, or
// array items from 1.
type errorJSON struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// writeSummary answers an import: 200 with the summary, or the error. An
// import that broke off midway is answered with the error's status, its text
// and the summary of the rows before. unit is 行 for file rows and 条 for
// array items.
func (s *server) writeSummary(w http.ResponseWriter, r *http.Request, sum *tickets.Summary, err error, unit string) {
	if sum == nil {
		s.writeAppError(w, r, err)
		return
	}
	out := summaryJSON{Summary: sum.String(), Created: sum.Created, Updated: sum.Updated, Unchanged: sum.Unchanged,
		Failed: sum.Failed, Errors: []errorJSON{}, Truncated: len(sum.Errors) < sum.Failed, Unknown: []unknownJSON{}}
	for _, e := range sum.Errors {
		out.Errors = append(out.Errors, errorJSON{Row: e.Row, Column: e.Column, Reason: e.Reason, Message: rowMessage(e, unit)})
	}
	for _, u := range sum.Unknown {
		out.Unknown = append(out.Unknown, unknownJSON{Column: u.Column, Name: u.Name, Rows: u.Rows, Message: u.String()})
	}
	status := http.StatusOK
	if err != nil {
		status = s.errorStatus(r, err)
		out.Error = models.UserText(err)
		s.log.Warn("tickets import broke off", zap.String("path", r.URL.Path), zap.String("summary", out.Summary),
			zap.Int("landed", sum.Landed()), zap.Error(err))
	} else {
		s.log.Info("tickets imported", zap.String("path", r.URL.Path), zap.String("summary", out.Summary))
	}
	writeJSON(w, status, out)
}

// rowMessage writes a row error for users: 第 3 条 received_at：无法识别的日期 "x".
func rowMessage(e *sheet.Error, unit string) string {
	msg := fmt.Sprintf("第 %d %s", e.Row, unit)
	if e.Column != "" {
		return msg + " " + e.Column + "：" + e.Reason
	}
	return msg + "：" + e.Reason
}

// ticketJSON is a ticket as GET returns it.
type ticketJSON struct {
	*models.Ticket
	Department string               `json:"department,omitempty"`
	Grid       string               `json:"grid,omitempty"`
	Overdue    bool                 `json:"overdue"`
	Events     []models.TicketEvent `json:"events"`
}

func (s *server) getTicket(w http.ResponseWriter, r *http.Request) {
	t, events, err := s.store.TicketByNumber(r.Context(), r.PathValue("number"))
	if err != nil {
		s.writeAppError(w, r, err)
		return
	}
	out := ticketJSON{Ticket: t, Events: events}
	if out.Events == nil {
		out.Events = []models.TicketEvent{}
	}
	if t.Department != nil {
		out.Department = t.Department.Name
	}
	if t.GridDepartment != nil {
		out.Grid = t.GridDepartment.Name
	}
	out.Overdue = t.Overdue(s.store.Now())
	writeJSON(w, http.StatusOK, out)
}

// writeAppError answers an application error with its status and user text;
// anything else is logged and answered 500 with a text that reveals nothing.
func (s *server) writeAppError(w http.ResponseWriter, r *http.Request, err error) {
	status := s.errorStatus(r, err)
	if status >= http.StatusInternalServerError || status == statusClientGone {
		s.log.Error("api request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	}
	writeError(w, status, models.UserText(err))
}

// statusClientGone answers a request whose client went away; nobody reads it.
const statusClientGone = 499

// errorStatus is the HTTP status of an error.
func (s *server) errorStatus(r *http.Request, err error) int {
	status := map[models.Code]int{
		models.EINVALID: http.StatusBadRequest, models.ENOTFOUND: http.StatusNotFound,
		models.ECONFLICT: http.StatusConflict, models.EFORBIDDEN: http.StatusForbidden,
	}[models.ErrorCode(err)]
	switch {
	case status != 0:
		return status
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return statusClientGone
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
