package tickets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/sheet"
)

// Style is the header and wording style of a generated export.
type Style string

// The export styles the generator writes.
const (
	// StyleBeijing: 工单编号, 承办单位, 被反映街乡镇, 办理时限, 工单状态 (已派单, 办理中,
	// 已办结, 已回访…), 是否联系, 是否解决 (已解决/未解决), 是否满意, 回访时间, 是否有效回访;
	// dates as Excel dates in xlsx.
	StyleBeijing Style = "beijing"
	// StyleWuhan: 办件编号, 责任单位, 属地, 承诺时间, 办件状态 (待签收, 处理中, 已办理,
	// 已归档, 已退办), 是否响应, 满意度 (非常满意…); dates as text "2026/11/20 9:30".
	StyleWuhan Style = "wuhan"
)

// GenOptions describe a synthetic export.
type GenOptions struct {
	// N is the number of tickets.
	N int
	// Departments are the names written as the responsible department; at least one.
	Departments []string
	// Grids are the towns and streets written as 属地; none leaves the column empty.
	Grids []string
	// Now is the export's time; tickets are received in the Days before it.
	Now time.Time
	// Days is the spread of receipt times; 30 when 0.
	Days int
	// Seed makes the output reproducible.
	Seed uint64
	// Format is sheet.XLSX (the default) or sheet.CSV.
	Format sheet.Format
	// Style is StyleBeijing (the default) or StyleWuhan.
	Style Style
	// GBK writes a csv in GBK instead of UTF-8 with a BOM.
	GBK bool
	// Calendar counts the deadlines; the lunar-go calendar in Now's zone when nil.
	Calendar *calendar.Calendar
	// Rules give the time limits; config.Default's when zero.
	Rules *config.Rules
}

// Shares of the tickets a generated export has of each kind, of all N.
const (
	shareOverdue     = 0.05 // open past the deadline
	shareUnsatisfied = 0.03 // answered 不满意 (60% of them also 未解决: 双否)
	shareReopened    = 0.02 // 重办 once or twice
	shareReturned    = 0.01 // 退办
)

// Generate writes a realistic synthetic export of a 12345 platform: Chinese
// headers of the chosen style, realistic categories, titles and addresses,
// departments from the given list, receipt times spread over Days with most
// calls in office hours, and about 5% overdue, 3% unsatisfied and 2%
// reopened tickets. The same options write the same bytes.
func Generate(w io.Writer, o GenOptions) error {
	if o.N < 0 || len(o.Departments) == 0 || o.Now.IsZero() {
		return errors.New("tickets: generate needs N ≥ 0, departments and Now")
	}
	g := newGenerator(o)
	header := g.header()
	switch o.Format {
	case sheet.CSV:
		return g.writeCSV(w, header)
	case sheet.XLSX, "":
		return g.writeXLSX(w, header)
	}
	return fmt.Errorf("tickets: unknown format %q", o.Format)
}

type generator struct {
	o     GenOptions
	rnd   *rand.Rand
	cal   *calendar.Calendar
	rules config.Rules
	loc   *time.Location
}

func newGenerator(o GenOptions) *generator {
	if o.Days <= 0 {
		o.Days = 30
	}
	if o.Style == "" {
		o.Style = StyleBeijing
	}
	g := &generator{o: o, rnd: rand.New(rand.NewPCG(o.Seed, 0x12345)), cal: o.Calendar, loc: o.Now.Location()}
	if g.cal == nil {
		g.cal = calendar.New(g.loc, nil)
	}
	if o.Rules != nil {
		g.rules = *o.Rules
	} else {
		g.rules = config.Default().Rules
	}
	return g
}

// genTicket is one generated ticket before it is written in a style.
type genTicket struct {
	number, source, category, title, content, address, dept, grid string
	received, deadline                                            time.Time
	resolvedAt, visitedAt                                         *time.Time
	status                                                        string // a Beijing-style status word; row maps it for Wuhan
	contacted, resolved                                           bool
	satisfaction                                                  string // "" when not visited
	reopens                                                       int
	assessed                                                      bool
}

func (g *generator) header() []string {
	if g.o.Style == StyleWuhan {
		return []string{"办件编号", "来电时间", "来源", "诉求类型", "诉求主题", "诉求内容", "问题点位", "责任单位", "属地",
			"承诺时间", "办件状态", "结案时间", "是否响应", "满意度", "重办次数"}
	}
	return []string{"工单编号", "受理时间", "派单方式", "工单类型", "标题", "主要内容", "地址", "承办单位", "被反映街乡镇",
		"办理时限", "工单状态", "办结时间", "是否联系", "是否解决", "是否满意", "回访时间", "重办次数", "是否有效回访"}
}

// categories with their shares of all calls.
var categories = []struct {
	name  string
	share float64
}{
	{"投诉", 0.34}, {"求助", 0.30}, {"咨询", 0.20}, {"建议", 0.07}, {"举报", 0.05}, {"其他", 0.04},
}

// topics are what citizens call about: a title and the content's sentence.
var topics = []struct{ title, content string }{
	{"小区电梯频繁停运", "反映小区%s电梯近一周多次停运，老人上下楼困难，物业维修不及时，希望尽快修复。"},
	{"道路积水严重", "反映%s附近道路雨后积水严重，行人车辆通行困难，希望疏通排水管网。"},
	{"夜间施工噪音扰民", "反映%s附近工地夜间22点后仍在施工，噪音很大，影响休息，希望相关部门查处。"},
	{"占道经营", "反映%s路口有商贩长期占道经营，影响通行和环境卫生，希望加强管理。"},
	{"拖欠工资", "反映在%s附近工地务工，施工方拖欠三个月工资未发，希望协调解决。"},
	{"供暖温度不达标", "反映%s室内温度只有14度左右，远低于标准，希望供热单位排查。"},
	{"垃圾清运不及时", "反映%s垃圾桶满溢多日无人清运，气味难闻，希望及时清理。"},
	{"违章建筑", "反映%s有住户在楼顶私搭乱建，存在安全隐患，希望依法拆除。"},
	{"物业服务差", "反映%s物业公司服务不到位，公共区域卫生差，门禁长期损坏。"},
	{"停车难", "反映%s周边停车位紧张，车辆乱停乱放，希望增设停车位。"},
	{"学校周边交通拥堵", "反映%s附近学校上下学时段交通拥堵，希望安排交警疏导。"},
	{"路灯不亮", "反映%s一段路灯已损坏多日，夜间出行不安全，希望尽快维修。"},
	{"老旧小区改造进度", "咨询%s老旧小区改造何时开工，具体改造内容有哪些。"},
	{"医保报销政策", "咨询在%s居住的退休人员异地就医医保如何备案和报销。"},
	{"燃气管道漏气", "反映%s楼道内有燃气异味，担心管道漏气，希望燃气公司尽快上门检查。"},
	{"二次供水水质差", "反映%s自来水发黄有异味，怀疑二次供水水箱未按时清洗。"},
	{"油烟扰民", "反映%s底商餐馆油烟直排，影响楼上住户开窗通风。"},
	{"共享单车乱停放", "反映%s地铁站口共享单车堆积，占用盲道，希望加强清理。"},
	{"房屋漏水", "反映%s顶楼房屋漏水，多次找物业和开发商均未解决。"},
	{"商品房延期交付", "反映购买的%s商品房已超过合同约定交付时间半年，开发商未给说法。"},
}

var (
	estates = []string{"幸福里小区", "阳光花园", "锦绣家园", "滨海新城", "翠湖苑", "和平里", "金色港湾", "东方明珠苑", "海韵嘉园", "科技新村"}
	roads   = []string{"科技路", "创业大道", "高新一路", "海滨大道", "学府路", "长江路", "黄河路", "人民路", "建设路", "文化街"}
)

func (g *generator) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

func (g *generator) category() string {
	u := g.rnd.Float64()
	for _, c := range categories {
		if u < c.share {
			return c.name
		}
		u -= c.share
	}
	return categories[0].name
}

// receivedAt is a call time in the window ending at before: mostly 8:00–20:00.
func (g *generator) receivedAt(from, before time.Time) time.Time {
	span := before.Sub(from)
	if span <= 0 {
		return from
	}
	t := from.Add(time.Duration(g.rnd.Int64N(int64(span))))
	if h := t.Hour(); (h < 8 || h >= 20) && g.rnd.Float64() < 0.8 {
		day := time.Date(t.Year(), t.Month(), t.Day(), 8, 0, 0, 0, g.loc)
		t = day.Add(time.Duration(g.rnd.Int64N(int64(12 * time.Hour))))
		if !t.Before(before) {
			t = before.Add(-time.Duration(1+g.rnd.IntN(3600)) * time.Second)
		}
	}
	return t.Truncate(time.Second)
}

func (g *generator) ticket(i int) genTicket {
	now := g.o.Now
	start := now.AddDate(0, 0, -g.o.Days)
	t := genTicket{category: g.category(), dept: g.pick(g.o.Departments), contacted: true, resolved: true}
	if len(g.o.Grids) > 0 {
		t.grid = g.pick(g.o.Grids)
	}
	topic := topics[g.rnd.IntN(len(topics))]
	estate := g.pick(estates)
	t.title = topic.title
	t.address = fmt.Sprintf("%s%s%d号%s%d号楼%d单元", t.grid, g.pick(roads), 1+g.rnd.IntN(300), estate, 1+g.rnd.IntN(30), 1+g.rnd.IntN(6))
	t.content = "市民来电" + fmt.Sprintf(topic.content, estate)
	t.source = "市级直派"
	if g.rnd.Float64() < 0.3 {
		t.source = "区级转派"
	}
	limit := SpanLimit(g.rules.TimeLimit(t.category))

	u := g.rnd.Float64()
	switch {
	case u < shareOverdue:
		// Open past its deadline: received early enough, or the platform's
		// deadline already gone by in a short window.
		t.received = g.receivedAt(start, start.Add(now.Sub(start)*2/3))
		t.deadline = g.cal.Deadline(t.received, limit)
		if !t.deadline.Before(now) {
			t.deadline = now.Add(-time.Duration(1+g.rnd.IntN(48)) * time.Hour).Truncate(time.Minute)
		}
		t.status = "办理中"
	case u < shareOverdue+shareReturned:
		t.received = g.receivedAt(start, now)
		t.deadline = g.cal.Deadline(t.received, limit)
		t.status = "已退办"
	default:
		t.received = g.receivedAt(start, now)
		t.deadline = g.cal.Deadline(t.received, limit)
		forced := u < shareOverdue+shareReturned+shareUnsatisfied+shareReopened
		switch {
		case forced || t.deadline.Before(now) || g.rnd.Float64() < 0.5:
			g.resolve(&t, u-shareOverdue-shareReturned)
		case g.rnd.Float64() < 0.2:
			t.status = "待签收"
		default:
			t.status = "办理中"
		}
	}
	if t.deadline.Equal(midnight(t.deadline)) {
		// Platforms write the end of a day as 23:59:59, not as the next midnight.
		t.deadline = t.deadline.Add(-time.Second)
	}
	t.number = t.received.Format("20060102") + fmt.Sprintf("%06d", i+1)
	return t
}

// resolve closes a ticket before its deadline (and before now) and, when
// enough time has passed, records the return visit. v below the unsatisfied
// share makes it unsatisfied, below that plus the reopened share reopened.
func (g *generator) resolve(t *genTicket, v float64) {
	end := t.deadline
	if g.o.Now.Before(end) {
		end = g.o.Now
	}
	at := t.received.Add(time.Duration(g.rnd.Int64N(int64(end.Sub(t.received)) + 1))).Truncate(time.Second)
	t.resolvedAt, t.status = &at, "已办结"
	visit := at.Add(time.Duration(1+g.rnd.IntN(47)) * time.Hour)
	unsatisfied := v >= 0 && v < shareUnsatisfied
	reopened := v >= shareUnsatisfied && v < shareUnsatisfied+shareReopened
	if visit.After(g.o.Now) {
		if !unsatisfied && !reopened {
			return // not visited yet
		}
		visit = at.Add(g.o.Now.Sub(at) / 2).Truncate(time.Second)
	}
	t.visitedAt, t.assessed = &visit, g.rnd.Float64() >= 0.03
	t.status = "已回访"
	t.contacted = g.rnd.Float64() >= 0.02
	t.resolved = g.rnd.Float64() >= 0.1
	switch p := g.rnd.Float64(); {
	case unsatisfied:
		t.satisfaction = "不满意"
		t.resolved = g.rnd.Float64() >= 0.6
	case p < 0.15:
		t.satisfaction = "基本满意"
	default:
		t.satisfaction = "满意"
	}
	if reopened {
		t.reopens = 1 + g.rnd.IntN(5)/4 // one in five twice
	}
}

// row renders a ticket in the chosen style. Times are time.Time for xlsx
// dates, strings otherwise.
func (g *generator) row(t genTicket, xlsx bool) []any {
	when := func(tm *time.Time) any {
		switch {
		case tm == nil:
			return ""
		case xlsx && g.o.Style == StyleBeijing:
			return *tm
		case g.o.Style == StyleWuhan:
			return tm.Format("2006/1/2 15:04")
		}
		return tm.Format("2006-01-02 15:04:05")
	}
	yes := func(b bool, y, n string) string {
		if b {
			return y
		}
		return n
	}
	visited := t.visitedAt != nil
	visitOnly := func(s string) string {
		if !visited {
			return ""
		}
		return s
	}
	if g.o.Style == StyleWuhan {
		status := map[string]string{"待签收": "待签收", "办理中": "处理中", "已办结": "已办理", "已回访": "已归档", "已退办": "已退办"}[t.status]
		sat := t.satisfaction
		if sat == "满意" && t.number[len(t.number)-1]%2 == 0 {
			sat = "非常满意"
		}
		return []any{t.number, when(&t.received), t.source, t.category, t.title, t.content, t.address, t.dept, t.grid,
			when(&t.deadline), status, when(t.resolvedAt), visitOnly(yes(t.contacted, "已响应", "未响应")), sat, t.reopens}
	}
	status := t.status
	if status == "待签收" {
		status = "已派单"
	}
	return []any{t.number, when(&t.received), t.source, t.category, t.title, t.content, t.address, t.dept, t.grid,
		when(&t.deadline), status, when(t.resolvedAt), visitOnly(yes(t.contacted, "是", "否")),
		visitOnly(yes(t.resolved, "已解决", "未解决")), t.satisfaction, when(t.visitedAt), t.reopens,
		visitOnly(yes(t.assessed, "是", "否"))}
}

func (g *generator) writeCSV(w io.Writer, header []string) error {
	if g.o.GBK {
		w = simplifiedchinese.GBK.NewEncoder().Writer(w)
	} else if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("tickets: write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("tickets: write csv: %w", err)
	}
	rec := make([]string, len(header))
	for i := range g.o.N {
		for j, v := range g.row(g.ticket(i), false) {
			rec[j] = fmt.Sprint(v)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("tickets: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("tickets: write csv: %w", err)
	}
	return nil
}

func (g *generator) writeXLSX(w io.Writer, header []string) error {
	f := excelize.NewFile()
	defer f.Close()
	const name = "工单明细"
	if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
		return fmt.Errorf("tickets: write xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("tickets: write xlsx: %w", err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptrTo("yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return fmt.Errorf("tickets: write xlsx: %w", err)
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = h
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return fmt.Errorf("tickets: write xlsx: %w", err)
	}
	for i := range g.o.N {
		row := g.row(g.ticket(i), true)
		for j, v := range row {
			if tm, ok := v.(time.Time); ok {
				// Excel keeps wall-clock times: write the zone's clock reading.
				wall := time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC)
				row[j] = excelize.Cell{StyleID: dateStyle, Value: wall}
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("tickets: write xlsx row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("tickets: write xlsx: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("tickets: write xlsx: %w", err)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}
