package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/report"
)

// Exporter prepares the workbooks of GET /api/v1/exports/{kind};
// *report.Builder is one.
type Exporter interface {
	ExportSpan(kind report.ExportKind, from, to string, now time.Time) (models.Period, error)
	Export(ctx context.Context, r report.ExportRequest) (*report.Export, error)
}

// xlsxType is the media type of an .xlsx file.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// getExport serves GET /api/v1/exports/{kind}?from=2006-01-02&to=2006-01-02:
// the workbook of the whole district, as the CLI's `yanzhen export` writes
// it, named in Content-Disposition. Without dates it is this month's (every
// overdue ticket for overdue).
func (s *server) getExport(w http.ResponseWriter, r *http.Request) {
	if s.exports == nil {
		writeError(w, http.StatusNotFound, "导出接口未启用")
		return
	}
	kind, ok := report.ExportKindOf(r.PathValue("kind"))
	if !ok {
		writeError(w, http.StatusNotFound, "没有这种导出："+r.PathValue("kind")+"，可选 "+strings.Join(report.ExportKinds(), "|"))
		return
	}
	now := s.store.Now()
	q := r.URL.Query()
	period, err := s.exports.ExportSpan(kind, q.Get("from"), q.Get("to"), now)
	if err != nil {
		s.writeAppError(w, r, err)
		return
	}
	e, err := s.exports.Export(r.Context(), report.ExportRequest{Kind: kind, Period: period, Now: now})
	if err != nil {
		s.writeAppError(w, r, err)
		return
	}
	// Written in full first, so that a failure is answered as one.
	var buf bytes.Buffer
	if err := e.Workbook.Write(&buf); err != nil {
		s.writeAppError(w, r, fmt.Errorf("api: export %s: %w", kind, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", xlsxType)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Content-Disposition", `attachment; filename="export.xlsx"; filename*=UTF-8''`+url.PathEscape(e.FileName))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
	s.log.Info("workbook exported", zap.String("kind", string(kind)), zap.Int("bytes", buf.Len()))
}
