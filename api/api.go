// Package api is yanzhen's HTTP API for hotline platforms and administrators:
//
//	POST /api/v1/tickets         a JSON array of tickets, upserted by number
//	POST /api/v1/tickets/import  an xlsx or csv export: multipart/form-data (any file
//	                             field) or the raw body, at most 20 MB
//	GET  /api/v1/tickets/{number} one ticket with its events
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
	"strings"

	"go.uber.org/zap"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

// DefaultMaxUpload is the largest upload accepted: 20 MB.
const DefaultMaxUpload = 20 << 20

// multipartSlack is what a multipart body may carry besides the file: part
// headers and boundaries.
const multipartSlack = 64 << 10

// Options are what the API needs.
type Options struct {
	// Tickets imports tickets; its Store answers the reads.
	Tickets *tickets.Service
	// Token is http.admin_token; empty turns the API off.
	Token config.Secret
	// MaxUpload bounds request bodies; DefaultMaxUpload when 0.
	MaxUpload int64
	// Log receives failures; nothing is logged when nil. Tokens never are.
	Log *zap.Logger
}

type server struct {
	tickets *tickets.Service
	store   *models.Store
	token   [sha256.Size]byte
	enabled bool
	max     int64
	log     *zap.Logger
	mux     *http.ServeMux
}

// New returns the API handler. Mount it for every path under /api/, e.g.
// mux.Handle("/api/", api.New(opts)).
func New(o Options) http.Handler {
	s := &server{tickets: o.Tickets, store: o.Tickets.Store, enabled: o.Token.IsSet(), max: o.MaxUpload, log: o.Log, mux: http.NewServeMux()}
	if s.max <= 0 {
		s.max = DefaultMaxUpload
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.token = sha256.Sum256([]byte(o.Token.Reveal()))
	s.mux.HandleFunc("POST /api/v1/tickets", s.postTickets)
	s.mux.HandleFunc("POST /api/v1/tickets/import", s.importTickets)
	s.mux.HandleFunc("GET /api/v1/tickets/{number}", s.getTicket)
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
	body, ok := s.readBody(w, r, r.Body)
	if !ok {
		return
	}
	if !json.Valid(body) {
		writeError(w, http.StatusBadRequest, "请求体不是有效的 JSON")
		return
	}
	sum, err := s.tickets.ImportJSON(r.Context(), bytes.NewReader(body), actor)
	s.writeSummary(w, r, sum, err, "条")
}

func (s *server) importTickets(w http.ResponseWriter, r *http.Request) {
	name, body, ok := s.upload(w, r)
	if !ok {
		return
	}
	sum, err := s.tickets.ImportFile(r.Context(), bytes.NewReader(body), name, actor)
	s.writeSummary(w, r, sum, err, "行")
}

// upload reads the file of an import request: the first file part of a
// multipart form, or the body itself. The name comes from the part, the
// filename query parameter or the content type, so that the format is known.
func (s *server) upload(w http.ResponseWriter, r *http.Request) (string, []byte, bool) {
	if r.ContentLength > s.max+multipartSlack {
		s.tooLarge(w)
		return "", nil, false
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		body, ok := s.readBody(w, r, r.Body)
		return uploadName(r, mediaType), body, ok
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.max+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "无法解析上传的表单")
		return "", nil, false
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if isTooLarge(err) {
				s.tooLarge(w)
			} else {
				writeError(w, http.StatusBadRequest, "表单中没有文件：请用 file 字段上传 xlsx 或 csv")
			}
			return "", nil, false
		}
		if part.FileName() == "" {
			_ = part.Close()
			continue
		}
		body, ok := s.readBody(w, r, part)
		return part.FileName(), body, ok
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

// readBody reads at most s.max bytes of body; more is answered 413. The whole
// body is read before anything is imported, so an oversized upload changes nothing.
func (s *server) readBody(w http.ResponseWriter, r *http.Request, body io.Reader) ([]byte, bool) {
	if r.ContentLength > s.max && body == r.Body {
		s.tooLarge(w)
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(body, s.max+1))
	switch {
	case isTooLarge(err) || int64(len(b)) > s.max:
		s.tooLarge(w)
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "读取请求内容失败")
		return nil, false
	case len(b) == 0:
		writeError(w, http.StatusBadRequest, "请求内容为空")
		return nil, false
	}
	return b, true
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func (s *server) tooLarge(w http.ResponseWriter) {
	writeError(w, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("文件超过 %d MB 上限，请拆分后分批导入", s.max>>20))
}

// summaryJSON is the answer to an import.
type summaryJSON struct {
	Summary   string      `json:"summary"`
	Created   int         `json:"created"`
	Updated   int         `json:"updated"`
	Unchanged int         `json:"unchanged"`
	Failed    int         `json:"failed"`
	Errors    []errorJSON `json:"errors"`
	// Truncated says that only the first of the Failed rows are listed.
	Truncated bool `json:"errors_truncated"`
}

// errorJSON is one refused row. Row counts file rows as Excel shows them, or
// array items from 1.
type errorJSON struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// writeSummary answers an import: 200 with the summary, or the error. unit
// is 行 for file rows and 条 for array items.
func (s *server) writeSummary(w http.ResponseWriter, r *http.Request, sum *tickets.Summary, err error, unit string) {
	if err != nil {
		s.writeAppError(w, r, err)
		return
	}
	out := summaryJSON{Summary: sum.String(), Created: sum.Created, Updated: sum.Updated, Unchanged: sum.Unchanged,
		Failed: sum.Failed, Errors: []errorJSON{}, Truncated: len(sum.Errors) < sum.Failed}
	for _, e := range sum.Errors {
		out.Errors = append(out.Errors, errorJSON{Row: e.Row, Column: e.Column, Reason: e.Reason, Message: rowMessage(e, unit)})
	}
	s.log.Info("tickets imported", zap.String("path", r.URL.Path), zap.String("summary", out.Summary))
	writeJSON(w, http.StatusOK, out)
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
	out.Overdue = t.Open() && t.Deadline != nil && t.Deadline.Before(s.store.Now())
	writeJSON(w, http.StatusOK, out)
}

// writeAppError answers an application error with its status and user text;
// anything else is logged and answered 500 with a text that reveals nothing.
func (s *server) writeAppError(w http.ResponseWriter, r *http.Request, err error) {
	status := map[models.Code]int{
		models.EINVALID: http.StatusBadRequest, models.ENOTFOUND: http.StatusNotFound,
		models.ECONFLICT: http.StatusConflict, models.EFORBIDDEN: http.StatusForbidden,
	}[models.ErrorCode(err)]
	if status == 0 {
		status = http.StatusInternalServerError
		if errors.Is(err, context.Canceled) {
			status = 499 // the client went away; nobody reads the answer
		}
		s.log.Error("api request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	}
	writeError(w, status, models.UserText(err))
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
