package timephrase

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"yanzhen/calendar"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at parses "2006-01-02 15:04" in Asia/Shanghai.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func newParser() Parser {
	return Parser{Loc: shanghai, Cal: calendar.New(shanghai, nil)}
}

// The reference now: Friday 2026-11-20 10:00.
const friday = "2026-11-20 10:00"

// Outcomes other than a deadline.
const (
	none       = "none"       // Found false
	past       = "past"       // *Error, Past
	unreadable = "unreadable" // *Error, not Past
)

var cases = []struct {
	now    string // friday when empty
	text   string
	want   string // a deadline "2006-01-02 15:04", or none, past, unreadable
	phrase string // checked when set
	rest   string // checked when set
	offDay bool
}{
	// Day words with parts of the day.
	{text: "明天中午前办结", want: "2026-11-21 12:00", phrase: "明天中午前", rest: "办结", offDay: true},
	{text: "今天下班前报送", want: "2026-11-20 18:00", phrase: "今天下班前", rest: "报送"},
	{text: "今天下午", want: "2026-11-20 18:00"},
	{text: "今日内反馈", want: "2026-11-20 18:00", phrase: "今日内", rest: "反馈"},
	{text: "当天办结", want: "2026-11-20 18:00"},
	{text: "后天上午", want: "2026-11-22 12:00", offDay: true},
	{text: "大后天前", want: "2026-11-23 18:00"},
	{text: "明天", want: "2026-11-21 18:00", offDay: true},
	{text: "明日以前", want: "2026-11-21 18:00", offDay: true},
	{text: "今晚前", want: "2026-11-20 21:00"},
	{text: "今晚8点前", want: "2026-11-20 20:00"},
	{text: "明早前", want: "2026-11-21 09:00", offDay: true},
	{text: "明天晚上", want: "2026-11-21 21:00", offDay: true},
	{text: "明天早上8点", want: "2026-11-21 08:00", offDay: true},
	{text: "明天上班前", want: "2026-11-21 09:00", offDay: true},
	// Clock times.
	{text: "明日12时前", want: "2026-11-21 12:00", offDay: true},
	{text: "明天下午3点半前", want: "2026-11-21 15:30", offDay: true},
	{text: "明天下午三点半之前", want: "2026-11-21 15:30", offDay: true},
	{text: "明天上午10点", want: "2026-11-21 10:00", offDay: true},
	{text: "明天10:30前", want: "2026-11-21 10:30", offDay: true},
	{text: "明天 18:00", want: "2026-11-21 18:00", phrase: "明天 18:00", offDay: true},
	{text: "下午3点前", want: "2026-11-20 15:00"},
	{text: "下午三点", want: "2026-11-20 15:00"},
	{text: "晚上8点", want: "2026-11-20 20:00"},
	{text: "晚上12点前", want: "2026-11-21 00:00"}, // 24:00 ends Friday, a working day
	{text: "中午1点前", want: "2026-11-20 13:00"},
	{text: "中午12点前", want: "2026-11-20 12:00"},
	{text: "十二点前", want: "2026-11-20 12:00"},
	{text: "十二点三十分前", want: "2026-11-20 12:30"},
	{text: "3点前", want: "2026-11-20 15:00"},
	{text: "两点前", want: "2026-11-20 14:00"},
	{text: "5点20分前", want: "2026-11-20 17:20"},
	{text: "4点05前", want: "2026-11-20 16:05"},
	{text: "8点前", want: "2026-11-20 20:00"}, // 08:00 is past at 10:00
	{text: "明天8点前", want: "2026-11-21 08:00", offDay: true},
	{text: "11点前", want: "2026-11-20 11:00"},
	{text: "18:00前", want: "2026-11-20 18:00"},
	{text: "18：00前", want: "2026-11-20 18:00"},
	{text: "17时30分前", want: "2026-11-20 17:30"},
	{text: "今天24:00前", want: "2026-11-21 00:00"},
	{text: "下班前", want: "2026-11-20 18:00"},
	{text: "中午前", want: "2026-11-20 12:00"},
	{text: "下午8点前", want: "2026-11-20 20:00"},
	// Days of the week: now is a Friday.
	{text: "周五下班前", want: "2026-11-20 18:00"},
	{text: "周五前", want: "2026-11-20 18:00"},
	{text: "周一前", want: "2026-11-23 18:00"},
	{text: "本周五前", want: "2026-11-20 18:00"},
	{text: "这周日", want: "2026-11-22 18:00", offDay: true},
	{text: "这个星期六", want: "2026-11-21 18:00", offDay: true},
	{text: "下周一上午10点前", want: "2026-11-23 10:00"},
	{text: "下周三", want: "2026-11-25 18:00"},
	{text: "下个礼拜二", want: "2026-11-24 18:00"},
	{text: "星期三前", want: "2026-11-25 18:00"},
	{text: "礼拜天", want: "2026-11-22 18:00", offDay: true},
	{text: "周3前", want: "2026-11-25 18:00"},
	{text: "本周三前", want: past},
	// Dates.
	{text: "11月25日前", want: "2026-11-25 18:00"},
	{text: "11月25号", want: "2026-11-25 18:00"},
	{text: "十一月二十五日前", want: "2026-11-25 18:00"},
	{text: "１１月２５日前", want: "2026-11-25 18:00"},
	{text: "12月1日下午5点前", want: "2026-12-01 17:00"},
	{text: "1月5日前", want: "2027-01-05 18:00"}, // more than half a year ago: next January
	{text: "11月18日前", want: past},
	{text: "6月1日前", want: past},
	{text: "2026年11月25日18时前", want: "2026-11-25 18:00"},
	{text: "2026-11-25 18:00前", want: "2026-11-25 18:00", phrase: "2026-11-25 18:00前"},
	{text: "2026/11/25前", want: "2026-11-25 18:00"},
	{text: "2026.11.25", want: "2026-11-25 18:00"},
	{text: "2027年1月4日", want: "2027-01-04 18:00"},
	{text: "25日前", want: "2026-11-25 18:00"},
	{text: "二十五日前", want: "2026-11-25 18:00"},
	{text: "25号之前", want: "2026-11-25 18:00"},
	{text: "本月25日", want: "2026-11-25 18:00"},
	{text: "下月5号前", want: "2026-12-05 18:00", offDay: true},
	{text: "11.25前", want: "2026-11-25 18:00"},
	{text: "11/25前", want: "2026-11-25 18:00"},
	// Spans.
	{text: "3个工作日内", want: "2026-11-25 18:00"},
	{text: "两个工作日内办结", want: "2026-11-24 18:00", rest: "办结"},
	{text: "5工作日以内", want: "2026-11-27 18:00"},
	{text: "三天内", want: "2026-11-23 18:00"},
	{text: "1日内", want: "2026-11-21 18:00", offDay: true},
	{text: "24小时内", want: "2026-11-21 10:00", offDay: true},
	{text: "2个小时之内", want: "2026-11-20 12:00"},
	{text: "半小时内", want: "2026-11-20 10:30"},
	{text: "30分钟内", want: "2026-11-20 10:30"},
	{text: "一周内", want: "2026-11-27 18:00"},
	{text: "一个月内", want: "2026-12-20 18:00", offDay: true},
	{text: "月底前", want: "2026-11-30 18:00"},
	{text: "本月底", want: "2026-11-30 18:00"},
	{text: "本月内", want: "2026-11-30 18:00"},
	{text: "下月底前", want: "2026-12-31 18:00"},
	{text: "12月底前", want: "2026-12-31 18:00"},
	{text: "年底前", want: "2026-12-31 18:00"},
	{text: "今年内", want: "2026-12-31 18:00"},
	{text: "本周内", want: "2026-11-20 18:00"},
	{text: "这周内", want: "2026-11-20 18:00"},
	{text: "下周内", want: "2026-11-27 18:00"},
	{text: "截至本周", want: "2026-11-20 18:00", rest: ""},
	// Not deadlines.
	{text: "尽快办结", want: none, rest: "尽快办结"},
	{text: "立即处置", want: none},
	{text: "本周工作安排", want: none},
	{text: "下周前", want: none},
	{text: "11.25", want: none},
	{text: "提出两点要求", want: none},
	{text: "3号楼漏水", want: none},
	{text: "工单2024112700123", want: none},
	{text: "每周五前报送", want: none},
	{text: "明天起每日报送", want: none},
	{text: "本周以来", want: none},
	{text: "上周五的工单", want: none},
	{text: "昨天下午的工单", want: none},
	{text: "", want: none, rest: ""},
	{text: "  多余   空格  ", want: none, rest: "多余 空格"},
	// Unreadable and past.
	{text: "13月5日前", want: unreadable},
	{text: "2026-02-30前", want: unreadable},
	{text: "下午25点", want: unreadable},
	{text: "晚上5点", want: unreadable},
	{text: "明天3点70分", want: unreadable},
	{text: "0天内", want: unreadable},
	{text: "今天9点前", want: past},
	{text: "今天早上", want: past},
	{text: "今天3点前", now: "2026-11-20 16:00", want: past},
	// A day gone by is a deadline only with a marker or a suffix, and a past one.
	{text: "昨天下班前报送整改方案", want: past, phrase: "昨天下班前", rest: "报送整改方案"},
	{text: "请于昨天前反馈", want: past},
	{text: "前天中午前", want: past},
	{text: "昨晚8点前", want: past},
	{text: "昨天收到的工单明天中午前办结", want: "2026-11-21 12:00", rest: "昨天收到的工单办结", offDay: true},
	{text: "前天的投诉", want: none},
	{text: "昨晚的噪音", want: none},
	{text: "周五前", now: "2026-11-20 19:00", want: past},
	// Markers, the instruction left over, several phrases.
	{text: "调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众", want: "2026-11-21 12:00",
		phrase: "明天中午前", rest: "调度 @住建局 @环海街道 工单2024112700123 办结并回复群众", offDay: true},
	{text: "请于明天中午12点前办结", want: "2026-11-21 12:00", phrase: "明天中午12点前", rest: "请办结", offDay: true},
	{text: "请在周一前反馈", want: "2026-11-23 18:00", rest: "请反馈"},
	{text: "现在明天办", want: "2026-11-21 18:00", rest: "现在办", offDay: true},
	{text: "截止11月25日", want: "2026-11-25 18:00", phrase: "11月25日", rest: ""},
	{text: "今天收到的工单，明天中午前办结", want: "2026-11-21 12:00", rest: "今天收到的工单，办结", offDay: true},
	{text: "上周五的工单请周一办结", want: "2026-11-23 18:00", rest: "上周五的工单请办结"},
	{text: "周一 10:00 前 到现场", want: "2026-11-23 10:00", phrase: "周一 10:00 前", rest: "到现场"},
	{text: "请明天前往现场核实", want: "2026-11-21 18:00", phrase: "明天", rest: "请前往现场核实", offDay: true},
	{text: "明天前提交报告", want: "2026-11-21 18:00", phrase: "明天前", rest: "提交报告", offDay: true},
	{text: "关于明天的检查", want: "2026-11-21 18:00", phrase: "明天", rest: "关于的检查", offDay: true},
	{text: "本周内容", want: none},
	{text: "1.5小时内", want: none},
	{text: "v2.3日志", want: none},
	{text: "明天下午下班前", want: "2026-11-21 18:00", phrase: "明天下午下班前", offDay: true},
	{text: "周一上午上班前", want: "2026-11-23 09:00"},
	{text: "11月27日（周五）前报送", want: "2026-11-27 18:00", phrase: "11月27日（周五）前", rest: "报送"},
	{text: "下周五(11月27日)下班前", want: "2026-11-27 18:00", phrase: "下周五(11月27日)下班前"},
	{text: "11月26日（周五）前", want: unreadable},
	{text: "周五(11月27日)下班前", want: unreadable, phrase: "周五(11月27日)下班前"}, // which Friday?
	// Around a month end: Monday 2026-11-30 17:00.
	{now: "2026-11-30 17:00", text: "月底前", want: "2026-11-30 18:00"},
	{now: "2026-11-30 17:00", text: "明天", want: "2026-12-01 18:00"},
	{now: "2026-11-30 17:00", text: "5号前", want: "2026-12-05 18:00", offDay: true},
	{now: "2026-11-30 17:00", text: "25日前", want: past},
	{now: "2026-11-30 17:00", text: "一个月内", want: "2026-12-30 18:00"},
	{now: "2026-12-20 10:00", text: "1月5日前", want: "2027-01-05 18:00"},
	{now: "2027-01-31 10:00", text: "一个月内", want: "2027-02-28 18:00", offDay: true},
	// Around holidays: 2025 国庆中秋 (Oct 1-8 off, Sat Oct 11 worked), 2026 春节.
	{now: "2025-09-30 10:00", text: "3个工作日内", want: "2025-10-11 18:00"},
	{now: "2025-09-30 10:00", text: "明天前", want: "2025-10-01 18:00", offDay: true},
	{now: "2025-09-30 10:00", text: "本周内", want: "2025-09-30 18:00"},
	{now: "2025-09-30 10:00", text: "月底前", want: "2025-09-30 18:00"},
	{now: "2025-09-30 10:00", text: "下周内", want: "2025-10-11 18:00"},
	{now: "2026-02-13 10:00", text: "2个工作日内", want: "2026-02-24 18:00"},
	{now: "2026-02-13 10:00", text: "下周一", want: "2026-02-16 18:00", offDay: true},
	{now: "2026-02-13 10:00", text: "月底前", want: "2026-02-28 18:00"},
	{now: "2026-02-14 10:00", text: "本周内", want: "2026-02-14 18:00"},
}

func TestFind(t *testing.T) {
	p := newParser()
	for _, tt := range cases {
		now := at(friday)
		if tt.now != "" {
			now = at(tt.now)
		}
		res, err := p.Find(tt.text, now)
		var perr *Error
		switch tt.want {
		case none:
			if err != nil || res.Found {
				t.Errorf("Find(%q) = %+v, %v; want no phrase", tt.text, res, err)
			}
		case past, unreadable:
			if !errors.As(err, &perr) || perr.Past != (tt.want == past) || !res.Found {
				t.Errorf("Find(%q) = %+v, %v; want a %s error", tt.text, res, err, tt.want)
			}
		default:
			want := at(tt.want)
			if err != nil || !res.Found || !res.Deadline.Equal(want) || res.OffDay != tt.offDay {
				t.Errorf("Find(%q) = %s offDay=%v phrase=%q, %v; want %s offDay=%v", tt.text,
					res.Deadline.Format("2006-01-02 15:04 Mon"), res.OffDay, res.Phrase, err, tt.want, tt.offDay)
			}
			if res.Deadline.Location() != shanghai {
				t.Errorf("Find(%q): deadline in %v, want Asia/Shanghai", tt.text, res.Deadline.Location())
			}
		}
		if tt.phrase != "" && res.Phrase != tt.phrase {
			t.Errorf("Find(%q).Phrase = %q, want %q", tt.text, res.Phrase, tt.phrase)
		}
		if (tt.rest != "" || tt.phrase != "") && res.Rest != tt.rest {
			t.Errorf("Find(%q).Rest = %q, want %q", tt.text, res.Rest, tt.rest)
		}
	}
}

func TestFindWithoutSuffixesAndWithEach(t *testing.T) {
	p := newParser()
	now := at(friday)
	for _, core := range []string{"明天中午", "周一", "11月25日", "下午3点", "下班", "月底", "本周"} {
		base, err := p.Find(core+"为止", now)
		if err != nil || !base.Found {
			t.Fatalf("Find(%q) = %+v, %v", core+"为止", base, err)
		}
		for _, s := range suffixes {
			if core == "本周" && s.before {
				continue // 本周前 is no deadline
			}
			text := "请" + core + s.word + "办结"
			res, err := p.Find(text, now)
			if err != nil || !res.Deadline.Equal(base.Deadline) || res.Rest != "请办结" || res.Phrase != core+s.word {
				t.Errorf("Find(%q) = %+v, %v; want %v", text, res, err, base.Deadline)
			}
		}
	}
}

func TestBeforeAndAfterThePhrase(t *testing.T) {
	p := newParser()
	for text, want := range map[string][2]string{
		"学府路拥堵问题于12月10日前拿出方案，12月20日前完成整治": {"学府路拥堵问题于", "拿出方案，12月20日前完成整治"},
		"明天中午前办结":  {"", "办结"},
		"报送方案 周一前": {"报送方案 ", ""},
		"无期限":      {"", ""},
	} {
		res, err := p.Find(text, at(friday))
		if err != nil || res.Before != want[0] || res.After != want[1] {
			t.Errorf("Find(%q): before %q, after %q, %v; want %q", text, res.Before, res.After, err, want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	p := newParser()
	_, err := p.Find("今天9点前办结", at(friday))
	if got, want := err.Error(), "截止时间已过：今天9点前（11月20日 09:00）"; got != want {
		t.Errorf("past: %q, want %q", got, want)
	}
	_, err = p.Find("13月5日前办结", at(friday))
	if got, want := err.Error(), "无法识别的时间：13月5日前"; got != want {
		t.Errorf("unreadable: %q, want %q", got, want)
	}
}

func TestWorkingHours(t *testing.T) {
	p := newParser()
	p.OnWork, p.OffWork = 8*time.Hour+30*time.Minute, 17*time.Hour+30*time.Minute
	for text, want := range map[string]string{
		"周一":     "2026-11-23 17:30",
		"周一下午":   "2026-11-23 17:30",
		"下班前":    "2026-11-20 17:30",
		"3个工作日内": "2026-11-25 17:30",
		"明早":     "2026-11-21 08:30",
	} {
		res, err := p.Find(text, at(friday))
		if err != nil || !res.Deadline.Equal(at(want)) {
			t.Errorf("Find(%q) = %v, %v; want %s", text, res.Deadline, err, want)
		}
	}
}

func TestNowInAnotherLocation(t *testing.T) {
	p := newParser()
	// Friday 10:00 in Shanghai is Thursday 21:00 in New York.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Find("明天中午前", at(friday).In(ny))
	if err != nil || !res.Deadline.Equal(at("2026-11-21 12:00")) || res.Deadline.Location() != shanghai {
		t.Errorf("Find with now in New York = %v, %v", res.Deadline, err)
	}
}

func TestRules(t *testing.T) {
	if len(cases) < 60 {
		t.Errorf("only %d cases", len(cases))
	}
	for _, r := range rules {
		if len(r.pat) == 0 || len(r.pat.leads()) == 0 {
			t.Errorf("rule %q compiles to nothing", r.text)
		}
	}
	for _, bad := range []string{"{n", "{x}", "(a|b", "{n}{n}{n}{n}"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("compile(%q) did not panic", bad)
				}
			}()
			compile(bad)
		}()
	}
}

func TestNumbers(t *testing.T) {
	for s, want := range map[string]int{
		"十": 10, "十二": 12, "二十": 20, "二十五": 25, "三十一": 31, "两": 2, "一百零五": 105, "两百": 200,
		"二〇二六": 2026, "〇": 0, "12": 12, "１２": 12, "2026": 2026,
	} {
		if got, n := readSlot(tokNum, s); got != want || n != len(s) {
			t.Errorf("readSlot(%q) = %d, %d; want %d, %d", s, got, n, want, len(s))
		}
	}
	for _, s := range []string{"十十", "二三十", "12345", "一二三四五", "x"} {
		if _, n := readSlot(tokNum, s); n == len(s) && n > 0 {
			t.Errorf("readSlot(%q) accepted it whole", s)
		}
	}
}

func FuzzFind(f *testing.F) {
	for _, tt := range cases {
		f.Add(tt.text)
	}
	f.Add("\xff明天\xfe前")
	f.Add("九九九九个工作日内")
	f.Add("9999小时内")
	p := newParser()
	now := at(friday)
	f.Fuzz(func(t *testing.T, text string) {
		res, err := p.Find(text, now)
		if len(res.Rest) > len(text) {
			t.Fatalf("Rest %q longer than the input %q", res.Rest, text)
		}
		if utf8.ValidString(text) && !utf8.ValidString(res.Rest) {
			t.Fatalf("Rest %q of valid %q is not valid UTF-8", res.Rest, text)
		}
		if res.Found != (res.Phrase != "") || !strings.Contains(text, res.Phrase) {
			t.Fatalf("Phrase %q not in %q", res.Phrase, text)
		}
		if err == nil && res.Found && !res.Deadline.After(now) {
			t.Fatalf("deadline %v of %q not after now", res.Deadline, text)
		}
		if err != nil && (!res.Found || err.Error() == "") {
			t.Fatalf("error %v without a phrase", err)
		}
	})
}

// benchMessages are typical group messages, most without a deadline phrase.
var benchMessages = []string{
	"调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众",
	"日报 今日受理工单35件，办结30件，百日攻坚老旧小区改造完成3个小区",
	"查询 工单2024112700123",
	"@城管局 请于3个工作日内反馈处理结果",
	"排名",
	"谁没报",
	"调度 @教育局 工单2024112700456 周五下班前报送整改情况",
	"收到，马上安排人员到现场核实处理",
}

func BenchmarkFind(b *testing.B) {
	p := newParser()
	now := at(friday)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Find(benchMessages[i%len(benchMessages)], now); err != nil {
			b.Fatal(err)
		}
	}
}
