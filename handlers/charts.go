package handlers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// Charts builds the charts and workbooks the chat asks for (排名 本月 图,
// 趋势 住建局, 导出 台账 本月); *report.Builder provides it.
type Charts interface {
	ScoreChart(ctx context.Context, p models.Period) (*report.ScoreChart, error)
	Trend(ctx context.Context, now time.Time, unit *models.Department) (*report.Trend, error)
	Export(ctx context.Context, r report.ExportRequest) (*report.Export, error)
}

// errNoCharts answers the chart and export commands of a handler built without Charts.
var errNoCharts = models.Errorf(models.EINVALID, "本服务未启用图表和导出功能")

// exportRoles may export the whole district; a head exports its own unit.
var exportRoles = []models.Role{models.RoleLeader, models.RoleAdmin, models.RoleHotline}

// rankingChart answers 排名 … 图: the period's scores as bar charts, or in
// words when no unit is ranked.
func (h *Handler) rankingChart(r *request, p models.Period) error {
	if h.charts == nil {
		return errNoCharts
	}
	c, err := h.charts.ScoreChart(r.ctx, p)
	if err != nil {
		return err
	}
	if !c.Ranked() {
		return h.rankingText(r, p) // no bar to draw: the words say why
	}
	atts, err := c.Attachments()
	if err != nil {
		return err
	}
	text := c.Title()
	if len(atts) > 1 {
		text += fmt.Sprintf("（共%d张图）", len(atts))
	}
	r.replyWith(msg.Message{Title: c.Title(), Sections: []msg.Section{msg.S(msg.L(msg.Text(text)))}, Attachments: atts})
	return nil
}

// trend answers 趋势 [单位]: the 三率 of the last months as a line chart, of
// the unit beside the district, or of the district.
func (h *Handler) trend(r *request) error {
	if h.charts == nil {
		return errNoCharts
	}
	var unit *models.Department
	if r.cmd.Word != "" {
		d, err := department(r.dir, r.cmd.Word)
		if err != nil {
			return err
		}
		unit = d
	}
	t, err := h.charts.Trend(r.ctx, r.now, unit)
	if err != nil {
		return err
	}
	atts, err := t.Attachments()
	if err != nil {
		return err
	}
	r.replyWith(msg.Message{Title: t.Title(), Sections: []msg.Section{msg.S(msg.L(msg.Text(t.Title() + "（近" + strconv.Itoa(report.TrendMonths) + "个月）")))}, Attachments: atts})
	return nil
}

// export answers 导出 <台账|超期|排名|日报> [时间]: the workbook as a file in
// the chat. Leaders, administrators and the 12345 office export the whole
// district; a head its own unit.
func (h *Handler) export(r *request) error {
	if h.charts == nil {
		return errNoCharts
	}
	req := report.ExportRequest{Kind: r.cmd.Export, Now: r.now}
	if !slices.Contains(exportRoles, r.me.Role) {
		if r.me.Role != models.RoleHead || r.me.DepartmentID == nil {
			return r.cmd.spec.refusal()
		}
		req.Unit = r.dir.Department(*r.me.DepartmentID)
		if req.Unit == nil {
			return models.Errorf(models.ENOTFOUND, "未找到您所在的单位，请联系管理员")
		}
	}
	p, err := h.exportPeriod(r.cmd.Word, req.Kind == report.ExportOverdue, r.now)
	if err != nil {
		return err
	}
	req.Period = p
	e, err := h.charts.Export(r.ctx, req)
	if err != nil {
		return err
	}
	data, err := e.Bytes()
	if err != nil {
		return err
	}
	r.replyWith(msg.Message{
		Sections:    []msg.Section{msg.S(msg.L(msg.Text(e.Workbook.Title + "已生成，请查收附件。")))},
		Attachments: []msg.Attachment{msg.FileAttachment(e.FileName, data)},
	})
	return nil
}
