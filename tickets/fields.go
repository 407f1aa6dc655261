package tickets

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/sheet"
)

// Fields of a ticket row. They are the JSON keys of POST /api/v1/tickets and
// the field names of Columns.
const (
	FieldNumber       = "number"
	FieldDepartment   = "department"
	FieldGrid         = "grid"
	FieldReceivedAt   = "received_at"
	FieldDeadline     = "deadline"
	FieldSignedAt     = "signed_at"
	FieldResolvedAt   = "resolved_at"
	FieldVisitedAt    = "visited_at"
	FieldReopenedAt   = "reopened_at"
	FieldStatus       = "status"
	FieldCategory     = "category"
	FieldSource       = "source"
	FieldTitle        = "title"
	FieldContent      = "content"
	FieldAddress      = "address"
	FieldContacted    = "contacted"
	FieldResolved     = "resolved"
	FieldSatisfaction = "satisfaction"
	FieldReopenCount  = "reopen_count"
	FieldAssessed     = "assessed"
	FieldExcluded     = "excluded"
	FieldPriority     = "priority"
	FieldDifficult    = "difficult"
)

// Columns are the header names hotline platforms use for each field, best
// first: Beijing-style exports (工单编号, 是否联系/是否解决/是否满意), Wuhan-style
// ones (办件编号, 承诺时间, 办件状态) and the common variants.
var Columns = sheet.Columns{
	FieldNumber:       {"工单编号", "诉求编号", "受理编号", "办件编号", "工单号", "编号"},
	FieldDepartment:   {"承办单位", "主办单位", "责任单位", "受理部门", "办结单位", "承办部门", "责任部门", "处置单位"},
	FieldGrid:         {"被反映街乡镇", "街道", "属地", "所属街道", "街乡镇", "所属镇街", "属地街道"},
	FieldReceivedAt:   {"受理时间", "来电时间", "创建时间", "登记时间", "诉求时间"},
	FieldDeadline:     {"办理时限", "承诺时间", "截止时间", "办结时限", "到期时间", "承诺办结时间"},
	FieldSignedAt:     {"签收时间"},
	FieldResolvedAt:   {"办结时间", "结案时间", "办理完成时间", "完成时间"},
	FieldVisitedAt:    {"回访时间", "评价时间"},
	FieldReopenedAt:   {"重办时间"},
	FieldStatus:       {"工单状态", "办件状态", "办理状态", "处理状态", "状态"},
	FieldCategory:     {"工单类型", "诉求类型", "事项大类", "问题分类", "诉求类别", "工单类别", "类型"},
	FieldSource:       {"来源", "派单方式", "工单来源", "派发方式", "派单类型"},
	FieldTitle:        {"标题", "诉求主题", "工单标题", "诉求标题", "主题"},
	FieldContent:      {"主要内容", "诉求内容", "工单内容", "问题描述", "内容"},
	FieldAddress:      {"地址", "问题点位", "小区点位", "事发地址", "诉求地址", "事发地点"},
	FieldContacted:    {"是否联系", "是否响应", "是否先行联系"},
	FieldResolved:     {"是否解决", "解决情况"},
	FieldSatisfaction: {"是否满意", "满意度", "评价结果", "满意情况", "回访结果"},
	FieldReopenCount:  {"重办次数", "重派次数"},
	FieldAssessed:     {"是否有效回访", "是否纳入考评", "有效回访", "是否考核"},
	FieldExcluded:     {"是否剔除", "剔除"},
	FieldPriority:     {"是否重点", "重点工单"},
	FieldDifficult:    {"是否疑难", "疑难工单"},
}

// fieldOf maps every header name and field name (as sheet.HeaderKey folds
// them) to its field, for JSON objects keyed either way.
var fieldOf = func() map[string]string {
	m := map[string]string{}
	for field, names := range Columns {
		m[sheet.HeaderKey(field)] = field
		for _, n := range names {
			m[sheet.HeaderKey(n)] = field
		}
	}
	return m
}()

// statusWords maps the platforms' status words to the four statuses.
var statusWords = map[string]models.TicketStatus{
	"待签收": models.TicketPending, "待受理": models.TicketPending, "待接收": models.TicketPending,
	"待派单": models.TicketPending, "已派单": models.TicketPending, "未签收": models.TicketPending,
	"待分派": models.TicketPending, "待处理": models.TicketPending, "新建": models.TicketPending,
	"办理中": models.TicketInProgress, "处理中": models.TicketInProgress, "已签收": models.TicketInProgress,
	"已受理": models.TicketInProgress, "已接收": models.TicketInProgress, "在办": models.TicketInProgress,
	"正在办理": models.TicketInProgress, "延期中": models.TicketInProgress, "延期办理": models.TicketInProgress,
	"待审核": models.TicketInProgress, "审核中": models.TicketInProgress, "重办": models.TicketInProgress,
	"重办中": models.TicketInProgress,
	"已办结": models.TicketResolved, "已办理": models.TicketResolved, "已回访": models.TicketResolved,
	"已归档": models.TicketResolved, "办结": models.TicketResolved, "已完成": models.TicketResolved,
	"已结案": models.TicketResolved, "结案": models.TicketResolved, "已处理": models.TicketResolved,
	"待回访": models.TicketResolved, "已关闭": models.TicketResolved, "已答复": models.TicketResolved,
	"已退办": models.TicketReturned, "退办": models.TicketReturned, "退回": models.TicketReturned,
	"已退回": models.TicketReturned, "不再办理": models.TicketReturned,
}

// statusHints judge words not in statusWords by what they contain, in order:
// 已办结（超期） is resolved, 退回申请中 and 延期审核中 still in progress (the
// request awaits a decision), 已退回区级 returned.
var statusHints = []struct {
	part   string
	status models.TicketStatus
}{
	{"申请", models.TicketInProgress}, {"审核", models.TicketInProgress}, {"审批", models.TicketInProgress},
	{"退", models.TicketReturned},
	{"办结", models.TicketResolved}, {"归档", models.TicketResolved}, {"回访", models.TicketResolved},
	{"结案", models.TicketResolved}, {"完成", models.TicketResolved},
	{"待", models.TicketPending},
	{"办理", models.TicketInProgress}, {"处理", models.TicketInProgress}, {"签收", models.TicketInProgress},
}

// NormStatus returns the status of a platform's status word, or false when the
// word is unknown.
func NormStatus(word string) (models.TicketStatus, bool) {
	w := sheet.HeaderKey(word)
	if s, ok := statusWords[w]; ok {
		return s, true
	}
	for _, h := range statusHints {
		if strings.Contains(w, h.part) {
			return h.status, true
		}
	}
	return "", false
}

// NormSource returns 市级直派, 区级转派 or 其他 for a platform's 来源/派单方式
// word, "" for an empty one.
func NormSource(word string) models.TicketSource {
	w := sheet.HeaderKey(word)
	switch {
	case w == "":
		return ""
	case strings.Contains(w, "直派") || strings.HasPrefix(w, "市"):
		return models.SourceCity
	case strings.Contains(w, "转派") || strings.HasPrefix(w, "区"):
		return models.SourceDistrict
	}
	return models.SourceOther
}

// satisfactionWords map return-visit answers to 满意, 基本满意 and 不满意; the
// empty string marks answers that mean no answer.
var satisfactionWords = map[string]models.Satisfaction{
	"满意": models.Satisfied, "非常满意": models.Satisfied, "很满意": models.Satisfied, "是": models.Satisfied,
	"基本满意": models.BasicSatisfied, "比较满意": models.BasicSatisfied, "一般": models.BasicSatisfied,
	"不满意": models.Unsatisfied, "非常不满意": models.Unsatisfied, "很不满意": models.Unsatisfied, "否": models.Unsatisfied,
	"未评价": "", "未回访": "", "无": "", "未接通": "", "-": "", "/": "",
}

// NormSatisfaction returns 满意, 基本满意, 不满意 or "" (no answer) for a
// return-visit answer, or false when the answer is unknown.
func NormSatisfaction(word string) (models.Satisfaction, bool) {
	w := sheet.HeaderKey(word)
	if w == "" {
		return "", true
	}
	s, ok := satisfactionWords[w]
	return s, ok
}

// NormCategory trims a category and drops a trailing 类 (投诉类 → 投诉), so that
// it finds its time limit.
func NormCategory(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 2 && r[len(r)-1] == '类' {
		return string(r[:len(r)-1])
	}
	return s
}

// limitPart is one number and unit of a time limit written in words.
var limitPart = regexp.MustCompile(`(\d+)\s*(个工作日|工作日|个自然日|自然日|天|日|个小时|小时|h|d)`)

// ParseLimit reads a time limit as platforms and people write it: 5个工作日,
// 3天, 24小时, 1天12小时, 5个工作日内.
func ParseLimit(s string) (calendar.Limit, error) {
	s = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "内"), "以")
	parts := limitPart.FindAllStringSubmatchIndex(s, -1)
	if len(parts) == 0 || strings.TrimSpace(limitPart.ReplaceAllString(s, "")) != "" {
		return calendar.Limit{}, fmt.Errorf("unrecognised time limit %q", s)
	}
	var l calendar.Limit
	for _, p := range parts {
		n, _ := strconv.Atoi(s[p[2]:p[3]])
		switch unit := s[p[4]:p[5]]; unit {
		case "个工作日", "工作日":
			l.Days, l.Workdays = l.Days+n, true
		case "小时", "个小时", "h":
			l.Hours += n
		default:
			l.Days += n
		}
	}
	return l, nil
}

// SpanLimit converts a configured span to a calendar limit.
func SpanLimit(s config.Span) calendar.Limit {
	switch s.Unit {
	case config.Days:
		return calendar.Limit{Days: s.N}
	case config.Hours:
		return calendar.Limit{Hours: s.N}
	}
	return calendar.Limit{Days: s.N, Workdays: true}
}
