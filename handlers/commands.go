package handlers

import (
	"slices"
	"strings"

	"yanzhen/models"
	"yanzhen/report"
)

// spec is one command of the table: what people type, who may, and what runs.
type spec struct {
	Name    string
	Aliases []string
	// Usage is the usage line 帮助 shows and a malformed command gets back:
	// <…> must be given, […] may be left out.
	Usage   string
	Summary string
	Group   string
	// Roles may use the command; nil means every registered member. Finer
	// checks (the issuer of a dispatch, a target, a department's head) are the
	// handler's.
	Roles []models.Role
	// Action completes the refusal 仅<roles>可以<Action>.
	Action string
	args   shape
	run    func(h *Handler, r *request) error
}

// Groups of 帮助, in order.
const (
	groupReport   = "日报"
	groupDispatch = "调度"
	groupQuery    = "查询"
	groupApproval = "退办、延期与剔除"
	groupPractice = "整改与问责"
	groupImport   = "工单导入"
	groupOther    = "其他"
)

var (
	reportRoles = []models.Role{models.RoleHead, models.RoleReporter}
	leaderOnly  = []models.Role{models.RoleLeader}
	// issuers issue dispatches (leaders) and 督办 (leaders and supervisors), and close them.
	issuers = []models.Role{models.RoleLeader, models.RoleSupervisor}
	// unitRoles work a unit's tickets.
	unitRoles = []models.Role{models.RoleHandler, models.RoleReporter, models.RoleHead}
	headOnly  = []models.Role{models.RoleHead}
	deciders  = []models.Role{models.RoleHead, models.RoleLeader}
	// officeOnly reviews 剔除; officeDeciders review or refuse it.
	officeOnly     = []models.Role{models.RoleHotline}
	officeDeciders = []models.Role{models.RoleHotline, models.RoleLeader}
	// excluders ask for a 剔除: a unit's members, or the 12345 office.
	excluders = append(slices.Clone(unitRoles), models.RoleHotline)
	// verifiers verify (核查) what others did: the issuers and the 12345 office.
	verifiers = append(slices.Clone(issuers), models.RoleHotline)
	// keepers put tickets on the 重点件 track: leaders and the 12345 office.
	keepers = []models.Role{models.RoleLeader, models.RoleHotline}
)

// commands is the command table: the one place that says what people may
// type. 帮助 is generated from it.
var commands = []*spec{
	{Name: "日报", Aliases: []string{"报日报", "报送日报", "提交日报"}, Group: groupReport,
		Usage: "日报 [部门] <正文>", Summary: "报送或更新本部门今日日报；联络员代报时写明部门",
		Roles: reportRoles, Action: "报送日报",
		args: shape{tail: tailBody, tailNeed: required}, run: (*Handler).report},
	{Name: "补充日报", Aliases: []string{"追加日报", "日报补充"}, Group: groupReport,
		Usage: "补充日报 [部门] <正文>", Summary: "在今日日报后追加内容",
		Roles: reportRoles, Action: "补充日报",
		args: shape{tail: tailBody, tailNeed: required}, run: (*Handler).appendReport},
	{Name: "撤回日报", Aliases: []string{"撤销日报", "删除日报"}, Group: groupReport,
		Usage: "撤回日报 [部门]", Summary: "撤回今日日报",
		Roles: reportRoles, Action: "撤回日报",
		args: shape{tail: tailWord}, run: (*Handler).withdrawReport},
	{Name: "预览日报", Aliases: []string{"日报预览", "查看日报"}, Group: groupReport,
		Usage: "预览日报", Summary: "查看今日日报汇总的当前内容",
		run: (*Handler).previewReport},
	{Name: "未报", Aliases: []string{"未报送", "谁没报", "未报日报", "未交日报"}, Group: groupReport,
		Usage: "未报", Summary: "列出今日尚未报送日报的单位",
		run: (*Handler).unreported},

	{Name: "调度", Aliases: []string{"交办", "派单"}, Group: groupDispatch,
		Usage:   "调度 @部门或人员… [工单号] [时限] <要求>",
		Summary: "点对点调度，如：调度 @住建局 @环海街道 工单2024112700123 明天中午前办结",
		Roles:   leaderOnly, Action: "调度",
		args: shape{tail: tailWord, tailNeed: required}, run: (*Handler).dispatch},
	{Name: "督办", Aliases: []string{"督办工单"}, Group: groupDispatch,
		Usage:   "督办 <工单号> [时限] [要求]",
		Summary: "督办工单，按调度跟踪签收、反馈、办结；不写时限按工单期限",
		Roles:   issuers, Action: "督办",
		args: shape{ticket: optional, tail: tailWord}, run: (*Handler).supervise},
	{Name: "签收", Aliases: []string{"收到", "确认收到"}, Group: groupDispatch,
		Usage: "签收 [D12|Z12|工单号]", Summary: "签收调度、整改事项或工单；只有一件待办调度时可省略编号",
		args: shape{code: optional, ticket: optional, item: optional}, run: step(models.StepSign, models.EventSigned)},
	{Name: "反馈", Aliases: []string{"汇报", "进展"}, Group: groupDispatch,
		Usage: "反馈 [D12|Z12|工单号] <进展>", Summary: "反馈办理进展；整改事项反馈整改情况（可附照片）后待核查",
		args: shape{code: optional, ticket: optional, item: optional, tail: tailBody, tailNeed: required}, run: step(models.StepFeedback, models.EventFeedback)},
	{Name: "办结", Aliases: []string{"已办结", "完成", "已完成"}, Group: groupDispatch,
		Usage: "办结 [D12|Z12|工单号] <结果>", Summary: "报告办结结果；工单办结待平台导入确认",
		args: shape{code: optional, ticket: optional, item: optional, tail: tailBody, tailNeed: required}, run: step(models.StepDone, models.EventClaimed)},
	{Name: "确认", Aliases: []string{"确认办结", "销号"}, Group: groupDispatch,
		Usage: "确认 D12", Summary: "发起人确认办结、销号（需核查的调度用“核查”）",
		Roles: issuers, Action: "确认办结",
		args: shape{code: required}, run: (*Handler).confirm},
	{Name: "退回", Aliases: []string{"打回"}, Group: groupDispatch,
		Usage: "退回 D12 [单位] <理由>", Summary: "发起人退回已报办结的单位，要求重新办理",
		Roles: issuers, Action: "退回调度",
		args: shape{code: required, tail: tailBody, tailNeed: required}, run: (*Handler).sendBack},
	{Name: "撤销", Aliases: []string{"撤回调度", "取消"}, Group: groupDispatch,
		Usage: "撤销 D12 [理由]", Summary: "发起人撤销调度",
		Roles: issuers, Action: "撤销调度",
		args: shape{code: required, tail: tailBody}, run: (*Handler).cancel},

	{Name: "查", Aliases: []string{"查询", "查看"}, Group: groupQuery,
		Usage: "查 <工单号|D12|Z12>", Summary: "查询工单、调度或整改事项的详情和进展",
		args: shape{code: optional, ticket: optional, item: optional, either: true}, run: (*Handler).lookup},
	{Name: "进度", Aliases: []string{"办理进度"}, Group: groupQuery,
		Usage: "进度 <部门>", Summary: "查看部门今日工单办理进度和本月三率",
		args: shape{tail: tailWord, tailNeed: required}, run: (*Handler).progress},
	{Name: "台账", Aliases: []string{"查台账", "在办台账"}, Group: groupQuery,
		Usage: "台账 [单位]", Summary: "在办事项及时长",
		args: shape{tail: tailWord}, run: (*Handler).unitLedger},
	{Name: "超期", Aliases: []string{"超时", "逾期"}, Group: groupQuery,
		Usage: "超期 [部门]", Summary: "列出超期未办结的工单",
		args: shape{tail: tailWord}, run: (*Handler).overdue},
	{Name: "排名", Aliases: []string{"排行", "排行榜"}, Group: groupQuery,
		Usage: "排名 [今日|本周|本月|上月|本季度|本年度] [图]", Summary: "查看三率综合评分排名（默认本月累计），加“图”返回图片",
		args: shape{tail: tailPeriod}, run: (*Handler).ranking},
	{Name: "趋势", Aliases: []string{"走势", "趋势图"}, Group: groupQuery,
		Usage: "趋势 [单位]", Summary: "近6个月三率趋势图",
		args: shape{tail: tailWord}, run: (*Handler).trend},
	{Name: "导出", Aliases: []string{"下载"}, Group: groupQuery,
		Usage: "导出 <" + strings.Join(report.ExportWords(), "|") + "> [本月|上月|日期范围]", Summary: "导出Excel表格",
		Roles: append(slices.Clone(exportRoles), models.RoleHead), Action: "导出表格",
		args: shape{tail: tailExport, tailNeed: required}, run: (*Handler).export},
	{Name: "待办", Aliases: []string{"我的待办", "待处理"}, Group: groupQuery,
		Usage: "待办", Summary: "查看需要我处理的调度和退办、延期审批",
		run: (*Handler).todo},
	{Name: "导入状态", Aliases: []string{"导入情况", "最近导入"}, Group: groupQuery,
		Usage: "导入状态", Summary: "最近导入和在办、超期件数",
		Roles: []models.Role{models.RoleHotline, models.RoleLeader, models.RoleAdmin}, Action: "查看导入状态",
		run: (*Handler).importStatus},

	{Name: "申请退办", Aliases: []string{"退办", "退办申请"}, Group: groupApproval,
		Usage: "申请退办 <工单号> <理由>", Summary: "申请退办，经部门主要负责人审核、区领导批准后退办",
		Roles: unitRoles, Action: "申请退办",
		args: shape{ticket: required, tail: tailBody, tailNeed: required}, run: returns.apply},
	{Name: "同意退办", Group: groupApproval,
		Usage: "同意退办 [工单号] [意见]", Summary: "部门主要负责人审核同意，报区领导批准",
		Roles: headOnly, Action: "审核退办",
		args: shape{ticket: optional, tail: tailBody}, run: returns.agree},
	{Name: "驳回退办", Aliases: []string{"不同意退办"}, Group: groupApproval,
		Usage: "驳回退办 [工单号] <理由>", Summary: "驳回退办申请",
		Roles: deciders, Action: "驳回退办",
		args: shape{ticket: optional, tail: tailBody, tailNeed: required}, run: returns.reject},
	{Name: "批准退办", Group: groupApproval,
		Usage: "批准退办 [工单号] [意见]", Summary: "区领导批准退办，工单即标记为已退办",
		Roles: leaderOnly, Action: "批准退办",
		args: shape{ticket: optional, tail: tailBody}, run: returns.approve},
	{Name: "申请延期", Aliases: []string{"延期", "延期申请"}, Group: groupApproval,
		Usage:   "申请延期 <工单号> <日期> <理由>",
		Summary: "申请延长工单期限，如：申请延期 工单号 12月5日 需协调供电部门；经部门主要负责人审核、区领导批准后生效",
		Roles:   unitRoles, Action: "申请延期",
		args: shape{ticket: required, tail: tailWord, tailNeed: required}, run: extensions.apply},
	{Name: "同意延期", Group: groupApproval,
		Usage: "同意延期 [工单号] [意见]", Summary: "部门主要负责人审核同意，报区领导批准",
		Roles: headOnly, Action: "审核延期",
		args: shape{ticket: optional, tail: tailBody}, run: extensions.agree},
	{Name: "驳回延期", Aliases: []string{"不同意延期"}, Group: groupApproval,
		Usage: "驳回延期 [工单号] <理由>", Summary: "驳回延期申请",
		Roles: deciders, Action: "驳回延期",
		args: shape{ticket: optional, tail: tailBody, tailNeed: required}, run: extensions.reject},
	{Name: "批准延期", Group: groupApproval,
		Usage: "批准延期 [工单号] [意见]", Summary: "区领导批准延期，工单期限即延至申请的日期",
		Roles: leaderOnly, Action: "批准延期",
		args: shape{ticket: optional, tail: tailBody}, run: extensions.approve},
	{Name: "申请剔除", Aliases: []string{"剔除申请"}, Group: groupApproval,
		Usage: "申请剔除 <工单号> <理由>", Summary: "申请剔除件，经12345热线办审核、区领导批准后不计入三率",
		Roles: excluders, Action: "申请剔除",
		args: shape{ticket: required, tail: tailBody, tailNeed: required}, run: exclusions.apply},
	{Name: "同意剔除", Group: groupApproval,
		Usage: "同意剔除 [工单号] [意见]", Summary: "12345热线办审核同意，报区领导批准",
		Roles: officeOnly, Action: "审核剔除",
		args: shape{ticket: optional, tail: tailBody}, run: exclusions.agree},
	{Name: "驳回剔除", Aliases: []string{"不同意剔除"}, Group: groupApproval,
		Usage: "驳回剔除 [工单号] <理由>", Summary: "驳回剔除申请",
		Roles: officeDeciders, Action: "驳回剔除",
		args: shape{ticket: optional, tail: tailBody, tailNeed: required}, run: exclusions.reject},
	{Name: "批准剔除", Group: groupApproval,
		Usage: "批准剔除 [工单号] [意见]", Summary: "区领导批准剔除，工单即不计入三率",
		Roles: leaderOnly, Action: "批准剔除",
		args: shape{ticket: optional, tail: tailBody}, run: exclusions.approve},

	{Name: "立项", Aliases: []string{"整改立项"}, Group: groupPractice,
		Usage:   "立项 @单位 [工单号|D12] <问题> [即知即改|限时整改|无法整改] [期限或理由]",
		Summary: "登记整改问题并交办：即知即改默认1个工作日，限时整改写期限，无法整改写理由、报区领导批准",
		Roles:   issuers, Action: "立项",
		args: shape{tail: tailWord, tailNeed: required}, run: (*Handler).register},
	{Name: "核查", Aliases: []string{"核验"}, Group: groupPractice,
		Usage: "核查 <编号> <通过|不通过> [说明]", Summary: "非办理人核查整改事项（Z12）或调度（D12）：通过后公示销号，不通过退回重办",
		Roles: verifiers, Action: "核查",
		args: shape{code: optional, item: optional, either: true, tail: tailBody, tailNeed: required}, run: (*Handler).verify},
	{Name: "清单", Aliases: []string{"整改清单"}, Group: groupPractice,
		Usage: "清单 [单位] [即知即改|限时整改|无法整改]", Summary: "列出未销号的整改事项",
		args: shape{tail: tailWord}, run: (*Handler).rectifyList},
	{Name: "申请无法整改", Group: groupPractice,
		Usage: "申请无法整改 <整改编号> <理由>", Summary: "整改事项（如 Z12）确实无法整改的，报区领导批准",
		Roles: unitRoles, Action: "申请无法整改",
		args: shape{item: required, tail: tailBody, tailNeed: required}, run: deferrals.apply},
	{Name: "批准无法整改", Group: groupPractice,
		Usage: "批准无法整改 [Z12] [意见]", Summary: "区领导批准，按月报上级",
		Roles: leaderOnly, Action: "批准无法整改",
		args: shape{item: optional, tail: tailBody}, run: deferrals.approve},
	{Name: "驳回无法整改", Group: groupPractice,
		Usage: "驳回无法整改 [Z12] <理由>", Summary: "区领导驳回，改为限时整改",
		Roles: leaderOnly, Action: "驳回无法整改",
		args: shape{item: optional, tail: tailBody, tailNeed: required}, run: deferrals.reject},
	{Name: "重点件", Aliases: []string{"列为重点件"}, Group: groupPractice,
		Usage: "重点件 <工单号>", Summary: "列为重点件，每日日报跟踪至办结",
		Roles: keepers, Action: "列重点件",
		args: shape{ticket: required}, run: (*Handler).keyTicket},
	{Name: "问责", Aliases: []string{"问责记录"}, Group: groupPractice,
		Usage: "问责 <单位>", Summary: "查看单位的提醒、约谈、责令检视记录",
		args: shape{tail: tailWord, tailNeed: required}, run: (*Handler).accountability},
	{Name: "约谈", Aliases: []string{"约谈记录"}, Group: groupPractice,
		Usage: "约谈 <单位> <日期> <纪要>", Summary: "记录约谈：日期、约谈对象和商定事项",
		Roles: issuers, Action: "记录约谈",
		args: shape{tail: tailWord, tailNeed: required}, run: (*Handler).interview},

	importSpec,

	{Name: "帮助", Aliases: []string{"help", "?", "菜单", "功能", "命令"}, Group: groupOther,
		Usage: "帮助 [命令]", Summary: "查看可用命令，或某个命令的用法",
		args: shape{tail: tailWord}, run: (*Handler).help},
}

// allows reports whether m may use the command.
func (s *spec) allows(m *models.Member) bool {
	return s.Roles == nil || slices.Contains(s.Roles, m.Role)
}

// refusal is the reply to a member the command is not for: 仅区领导可以调度.
func (s *spec) refusal() error {
	names := make([]string, len(s.Roles))
	for i, r := range s.Roles {
		names[i] = r.Chinese()
	}
	return models.Errorf(models.EFORBIDDEN, "仅%s可以%s", strings.Join(names, "、"), s.Action)
}

// help lists the usage lines of the commands the sender may use, by group
// (the table grew past what one message carries with every summary), or
// one command's usage, summary and aliases.
func (h *Handler) help(r *request) error {
	if r.cmd.Word != "" {
		sp, _ := h.grammar.lookup(r.cmd.Word)
		if sp == nil {
			return models.Errorf(models.ENOTFOUND, "没有“%s”命令，发送“帮助”查看可用命令", r.cmd.Word)
		}
		var b strings.Builder
		b.WriteString("用法：" + sp.Usage + "\n" + sp.Summary)
		if len(sp.Aliases) > 0 {
			b.WriteString("\n也可以说：" + strings.Join(sp.Aliases, "、"))
		}
		if sp.Roles != nil {
			b.WriteString("\n" + models.UserText(sp.refusal()))
		}
		r.reply(b.String())
		return nil
	}
	var b strings.Builder
	b.WriteString("可用命令（<>为必填，[]可省略）：")
	group := ""
	for _, sp := range h.grammar.specs {
		if !sp.allows(r.me) {
			continue
		}
		if sp.Group != group {
			group = sp.Group
			b.WriteString("\n【" + group + "】")
		}
		b.WriteString("\n" + sp.Usage)
	}
	b.WriteString("\n发送“帮助 命令”查看某个命令的说明和用法。")
	r.reply(b.String())
	return nil
}
