package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"yanzhen/api"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

const token = "s3cret-admin-token"

var now = time.Date(2026, 11, 20, 20, 0, 0, 0, storetest.Shanghai)

// each runs f on every database with the API over a store holding two departments.
func each(t *testing.T, f func(t *testing.T, h http.Handler, s *models.Store)) {
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		for _, d := range []models.Department{{Code: "zjj", Name: "住建局"}, {Code: "cgj", Name: "城管局"}} {
			if _, err := s.UpsertDepartment(context.Background(), &d); err != nil {
				t.Fatal(err)
			}
		}
		f(t, newAPI(s, token), s)
	})
}

func newAPI(s *models.Store, tok string) http.Handler { return newAPIWith(s, tok, sheet.Limits{}) }

// newAPIWith is newAPI with the import's file limits.
func newAPIWith(s *models.Store, tok string, lim sheet.Limits) http.Handler {
	svc := &tickets.Service{Store: s, Calendar: calendar.New(storetest.Shanghai, nil), Rules: config.Default().Rules,
		District: "高新区", Limits: lim}
	return api.New(api.Options{Tickets: svc, Token: config.Secret(tok)})
}

type call struct {
	method, path, contentType string
	body                      io.Reader
	auth                      string
}

func do(h http.Handler, c call) (*httptest.ResponseRecorder, map[string]any) {
	r := httptest.NewRequest(c.method, c.path, c.body)
	if c.contentType != "" {
		r.Header.Set("Content-Type", c.contentType)
	}
	if c.auth != "" {
		r.Header.Set("Authorization", c.auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w, out
}

const bearer = "Bearer " + token

func TestAuth(t *testing.T) {
	each(t, func(t *testing.T, h http.Handler, s *models.Store) {
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Basic " + token, token} {
			w, out := do(h, call{method: "GET", path: "/api/v1/tickets/X1", auth: auth})
			if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" ||
				out["error"] != "未授权：请在 Authorization 头中提供有效的 Bearer 令牌" {
				t.Errorf("auth %q: %d %v", auth, w.Code, out)
			}
		}
		// Unauthenticated writes change nothing.
		w, _ := do(h, call{method: "POST", path: "/api/v1/tickets", body: strings.NewReader(`[{"number":"X1","received_at":"2026-11-20"}]`)})
		var n int64
		if err := s.DB(context.Background()).Model(&models.Ticket{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusUnauthorized || n != 0 {
			t.Errorf("unauthenticated post: %d, %d tickets", w.Code, n)
		}
		// The scheme is case-insensitive.
		if w, _ := do(h, call{method: "GET", path: "/api/v1/tickets/X1", auth: "bearer " + token}); w.Code != http.StatusNotFound {
			t.Errorf("lower-case scheme: %d", w.Code)
		}
		// Without an admin token the API is off, whatever the request carries.
		off := newAPI(s, "")
		for _, auth := range []string{"", "Bearer ", bearer} {
			if w, out := do(off, call{method: "GET", path: "/api/v1/tickets/X1", auth: auth}); w.Code != http.StatusNotFound ||
				out["error"] != "接口未启用：请配置 http.admin_token" {
				t.Errorf("disabled API with %q: %d %v", auth, w.Code, out)
			}
		}
	})
}

func TestPostAndGetTickets(t *testing.T) {
	each(t, func(t *testing.T, h http.Handler, s *models.Store) {
		body := `[
			{"number": "X1", "received_at": "2026-11-18 09:00", "department": "住建局", "category": "求助",
			 "deadline": "2026-11-19 18:00", "status": "办理中", "title": "路灯不亮"},
			{"number": "X2", "received_at": "明天", "department": "住建局"},
			{"工单编号": "X3", "受理时间": "2026-11-20 10:00", "承办单位": "教育局"}
		]`
		w, out := do(h, call{method: "POST", path: "/api/v1/tickets", contentType: "application/json", body: strings.NewReader(body), auth: bearer})
		if w.Code != http.StatusOK || out["summary"] != "新增 1, 更新 0, 未变 0, 错误 2" {
			t.Fatalf("post: %d %v", w.Code, out)
		}
		errs := out["errors"].([]any)
		first := errs[0].(map[string]any)
		if len(errs) != 2 || first["message"] != `第 2 条 received_at：无法识别的日期 "明天"` || first["row"] != 2.0 || first["column"] != "received_at" ||
			errs[1].(map[string]any)["message"] != `第 3 条 承办单位：未知的部门 "教育局"` {
			t.Errorf("errors = %v", errs)
		}

		w, out = do(h, call{method: "GET", path: "/api/v1/tickets/X1", auth: bearer})
		if w.Code != http.StatusOK {
			t.Fatalf("get: %d %v", w.Code, out)
		}
		if out["number"] != "X1" || out["department"] != "住建局" || out["status"] != "办理中" || out["overdue"] != true ||
			out["deadline"] != "2026-11-19T18:00:00+08:00" || out["title"] != "路灯不亮" {
			t.Errorf("ticket = %v", out)
		}
		events := out["events"].([]any)
		if len(events) != 1 || events[0].(map[string]any)["kind"] != "created" || events[0].(map[string]any)["actor"] != "api" {
			t.Errorf("events = %v", events)
		}
		// The push is recorded as an import by the API (导入状态).
		imports, err := s.LatestImports(context.Background(), 1)
		if err != nil || len(imports) != 1 || imports[0].Route != models.ImportAPI || imports[0].Created != 1 || imports[0].Failed != 2 {
			t.Errorf("import record: %+v %v", imports, err)
		}

		w, out = do(h, call{method: "GET", path: "/api/v1/tickets/NOPE", auth: bearer})
		if w.Code != http.StatusNotFound || out["error"] != "未找到工单 NOPE" {
			t.Errorf("missing: %d %v", w.Code, out)
		}
		for bad, want := range map[string]string{
			`{"number":"X1"}`: "请求体应为工单 JSON 数组",
			``:                "请求内容为空",
			`[{"number":"X9","received_at":"2026-11-20 09:00"}, {"number":`: "请求体不是有效的 JSON",
		} {
			w, out = do(h, call{method: "POST", path: "/api/v1/tickets", body: strings.NewReader(bad), auth: bearer})
			if w.Code != http.StatusBadRequest || out["error"] != want {
				t.Errorf("bad body %q: %d %v", bad, w.Code, out)
			}
		}
		// Truncated JSON imports nothing, not even its good first item.
		if w, _ := do(h, call{method: "GET", path: "/api/v1/tickets/X9", auth: bearer}); w.Code != http.StatusNotFound {
			t.Errorf("a truncated body imported X9: %d", w.Code)
		}
		// Items that are not objects are refused rows.
		w, out = do(h, call{method: "POST", path: "/api/v1/tickets", body: strings.NewReader(`[1, "x"]`), auth: bearer})
		if w.Code != http.StatusOK || out["summary"] != "新增 0, 更新 0, 未变 0, 错误 2" ||
			out["errors"].([]any)[0].(map[string]any)["message"] != "第 1 条：应为 JSON 对象" {
			t.Errorf("non-object items: %d %v", w.Code, out)
		}
		if w, _ := do(h, call{method: "DELETE", path: "/api/v1/tickets/X1", auth: bearer}); w.Code != http.StatusMethodNotAllowed {
			t.Errorf("delete: %d", w.Code)
		}
	})
}

func export(t *testing.T, n int, format sheet.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	err := tickets.Generate(&buf, tickets.GenOptions{N: n, Departments: []string{"住建局", "城管局"}, Now: now, Seed: 1, Format: format})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func multipartBody(t *testing.T, field, name string, data []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("note", "每日导入")
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func TestImportUploads(t *testing.T) {
	xlsx, csvData := export(t, 40, sheet.XLSX), export(t, 40, sheet.CSV)
	each(t, func(t *testing.T, h http.Handler, s *models.Store) {
		ct, body := multipartBody(t, "file", "12345导出.xlsx", xlsx)
		w, out := do(h, call{method: "POST", path: "/api/v1/tickets/import", contentType: ct, body: body, auth: bearer})
		if w.Code != http.StatusOK || out["summary"] != "新增 40, 更新 0, 未变 0, 错误 0" {
			t.Fatalf("multipart xlsx: %d %v", w.Code, out)
		}
		// The same export as a raw csv body: the same tickets, unchanged.
		w, out = do(h, call{method: "POST", path: "/api/v1/tickets/import", contentType: "text/csv", body: bytes.NewReader(csvData), auth: bearer})
		if w.Code != http.StatusOK || out["summary"] != "新增 0, 更新 0, 未变 40, 错误 0" {
			t.Errorf("raw csv: %d %v", w.Code, out)
		}
		// A raw xlsx without a content type is recognised by its bytes.
		w, out = do(h, call{method: "POST", path: "/api/v1/tickets/import", body: bytes.NewReader(xlsx), auth: bearer})
		if w.Code != http.StatusOK || out["unchanged"] != 40.0 {
			t.Errorf("raw xlsx: %d %v", w.Code, out)
		}
		w, out = do(h, call{method: "POST", path: "/api/v1/tickets/import", contentType: "text/csv", body: strings.NewReader("序号,名称\n1,x\n"), auth: bearer})
		if w.Code != http.StatusBadRequest || !strings.HasPrefix(out["error"].(string), "缺少必需的列：工单编号") {
			t.Errorf("no number column: %d %v", w.Code, out)
		}
		ct, body = multipartBody(t, "file", "", nil)
		body = bytes.NewBufferString(strings.Replace(body.String(), `; filename=""`, "", 1))
		if w, out := do(h, call{method: "POST", path: "/api/v1/tickets/import", contentType: ct, body: body, auth: bearer}); w.Code != http.StatusBadRequest {
			t.Errorf("form without a file: %d %v", w.Code, out)
		}
	})
}

// chunked hides a reader's length, as a chunked upload does.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestUploadOverTheLimit(t *testing.T) {
	const limit = 1 << 20
	each(t, func(t *testing.T, _ http.Handler, s *models.Store) {
		h := newAPIWith(s, token, sheet.Limits{FileBytes: limit})
		// A valid csv that is one byte over the limit once its rows are counted in full.
		head := "工单编号,受理时间,承办单位\n"
		line := "BIG000001,2026-11-20 09:00,住建局\n"
		big := head + strings.Repeat(line, limit/len(line)+1)
		for name, c := range map[string]call{
			"raw with length": {contentType: "text/csv", body: strings.NewReader(big)},
			"raw chunked":     {contentType: "text/csv", body: chunked{strings.NewReader(big)}},
			"json array": {path: "/api/v1/tickets",
				body: chunked{strings.NewReader(`[` + strings.Repeat(`{"number":"1"},`, api.MaxJSONBody/15+1) + `{}]`)}},
			"multipart file": func() call {
				ct, b := multipartBody(t, "file", "big.csv", []byte(big))
				return call{contentType: ct, body: b}
			}(),
			"multipart chunks": func() call {
				ct, b := multipartBody(t, "file", "big.csv", []byte(big))
				return call{contentType: ct, body: chunked{b}}
			}(),
		} {
			want := "文件超过 1 MB 上限，请拆分后分批导入"
			c.method, c.auth = "POST", bearer
			if c.path == "" {
				c.path = "/api/v1/tickets/import"
			} else {
				want = "文件超过 20 MB 上限，请拆分后分批导入"
			}
			w, out := do(h, c)
			if w.Code != http.StatusRequestEntityTooLarge || out["error"] != want {
				t.Errorf("%s: %d %v", name, w.Code, out)
			}
		}
		var n int64
		if err := s.DB(context.Background()).Model(&models.Ticket{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("an oversized upload imported %d tickets", n)
		}
		// Exactly the limit is fine (blank lines pad one row to 1 MB).
		fits := head + line + strings.Repeat("\n", limit-len(head)-len(line))
		w, out := do(h, call{method: "POST", path: "/api/v1/tickets/import", contentType: "text/csv", body: strings.NewReader(fits), auth: bearer})
		if w.Code != http.StatusOK || out["created"] != 1.0 {
			t.Errorf("upload under the limit: %d %v", w.Code, out["summary"])
		}
	})
}

func TestImportAnswersBadInputInWords(t *testing.T) {
	each(t, func(t *testing.T, h http.Handler, s *models.Store) {
		post := func(body string) (*httptest.ResponseRecorder, map[string]any) {
			return do(h, call{method: "POST", path: "/api/v1/tickets/import", contentType: "text/csv", body: strings.NewReader(body), auth: bearer})
		}
		// Binary content (/dev/zero) is refused at once.
		w, out := post(string(make([]byte, 1<<20)))
		if w.Code != http.StatusBadRequest || !strings.HasPrefix(out["error"].(string), "文件不是文本格式的 csv") {
			t.Errorf("zeros: %d %v", w.Code, out)
		}
		// Unknown units are listed once with their rows; 区 and the district
		// in front of a unit's name are understood.
		w, out = post("工单编号,受理时间,承办单位\n" +
			"U1,2026-11-20 09:00,区住建局\nU2,2026-11-20 09:00,高新区城管局\n" +
			"U3,2026-11-20 09:00,市住建委\nU4,2026-11-20 09:00,市住建委\nU5,2026-11-20 09:00,\"未闭合\n")
		unknown, _ := json.Marshal(out["unknown_units"])
		if w.Code != http.StatusOK || out["summary"] != "新增 2, 更新 0, 未变 0, 错误 3" ||
			!strings.HasPrefix(string(unknown), `[{"column":"承办单位","message":"承办单位“市住建委”未找到对应单位，共 2 行未导入：如为已有单位的其他叫法`) ||
			!strings.Contains(string(unknown), `"rows":2`) {
			t.Errorf("unknown units: %d %v %s", w.Code, out, unknown)
		}
		errs, _ := json.Marshal(out["errors"])
		if !strings.Contains(string(errs), `"message":"第 6 行：引号未闭合：本行未导入"`) {
			t.Errorf("errors: %s", errs)
		}
	})
}

func TestCancelledUploadAnswers499AndChangesNothing(t *testing.T) {
	// The client went away: the import stops with the cancellation (499).
	// (tickets tests a cancellation midway, which returns the rows written.)
	each(t, func(t *testing.T, _ http.Handler, s *models.Store) {
		svc := &tickets.Service{Store: s, Calendar: calendar.New(storetest.Shanghai, nil), Rules: config.Default().Rules, BatchSize: 10}
		h := api.New(api.Options{Tickets: svc, Token: config.Secret(token)})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var body strings.Builder
		body.WriteString("工单编号,受理时间,承办单位\n")
		for i := range 500 {
			fmt.Fprintf(&body, "C%04d,2026-11-20 09:00,住建局\n", i)
		}
		r := httptest.NewRequest("POST", "/api/v1/tickets/import", strings.NewReader(body.String())).WithContext(ctx)
		r.Header.Set("Content-Type", "text/csv")
		r.Header.Set("Authorization", bearer)
		cancel() // gone before the import starts: nothing may land, and the answer says so
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := s.DB(context.Background()).Model(&models.Ticket{}).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if w.Code != 499 || n != 0 {
			t.Errorf("cancelled upload: %d %v, %d tickets stored", w.Code, out, n)
		}
	})
}
