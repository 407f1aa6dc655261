package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"yanzhen/demo/browsertest"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// TestDemoChartsAndExportsInTheBrowser asks the demo, as the main leader, for
// last month's ranking chart and this month's ledger: the chart shows inline
// as a 720 px image, the ledger is offered as a file whose workbook holds a
// row for every target of the month's dispatches. It saves a screenshot in
// demo/testdata/out.
func TestDemoChartsAndExportsInTheBrowser(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	d := startDemo(t, db, "YANZHEN_SCHEDULE_ENABLED=false")
	b := browsertest.New(t, 1440, 900)
	step, eval := b.Drive(t, 60*time.Second, d.logs.String)
	speak := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#speaker'); s.value = 'zhoujianguo'; s.dispatchEvent(new Event('change')); })()`),
			chromedp.SendKeys(chromedp.ID("input"), text+kb.Enter),
		)
	}
	// The leaders' dispatches of the seed go out as the demo starts, beside
	// the seed's own 责令检视, tracked as a dispatch.
	dispatches := waitForDispatches(t, db, 3)

	step("open the page",
		chromedp.Navigate(d.url+"/"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#status-conn').textContent === '已连接' && document.querySelectorAll('#speaker option').length > 30`),
	)
	step("ask for last month's ranking chart", speak("排名 上月 图"),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#messages img.chat-image')].some(i => i.complete && i.naturalWidth === 720)`),
	)
	// The image follows the bot's line naming it.
	if got := eval(`(m => m.previousElementSibling.textContent)(document.querySelector('#messages img.chat-image').closest('.msg'))`); !strings.Contains(got, "高新区"+lastMonth()+"综合评分排名") {
		t.Errorf("the chart follows %q", got)
	}
	step("export this month's ledger", speak("导出 台账 本月"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#messages a.file-card') !== null`),
	)
	var card struct {
		Href, Download, Text string
	}
	if err := json.Unmarshal([]byte(eval(`JSON.stringify((a => ({href: a.getAttribute('href'), download: a.download, text: a.textContent}))(document.querySelector('#messages a.file-card')))`)), &card); err != nil {
		t.Fatal(err)
	}
	month := time.Now().In(storetest.Shanghai).Format("2006年1月")
	if card.Download != "高新区调度台账_"+month+".xlsx" || !strings.Contains(card.Text, "KB") {
		t.Errorf("the file card: %+v", card)
	}

	resp, err := http.Get(d.url + card.Href)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %v %d %v", err, resp.StatusCode, resp.Header)
	}
	f, err := excelize.OpenReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("the download is not a workbook: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("调度台账")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[2:] {
		got = append(got, r[1]+" "+r[7])
	}
	if !strings.HasPrefix(rows[0][0], "高新区调度台账（"+month+"）") || strings.Join(got, ",") != strings.Join(dispatches, ",") {
		t.Errorf("the ledger holds %q under %q, want %q", got, rows[0][0], dispatches)
	}
	step("scroll to the chart", chromedp.Evaluate[chromedp.Void](`(() => {
		const img = document.querySelector('#messages img.chat-image');
		document.querySelector('#messages').scrollTop = img.closest('.msg').offsetTop - 80;
		document.querySelector('#toast').hidden = true;
	})()`))
	b.Screenshot(t, filepath.Join("demo", "testdata", "out", "charts.png"))
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the page logged problems: %q", p)
	}
}

// lastMonth names last month: 2026年11月.
func lastMonth() string {
	now := time.Now().In(storetest.Shanghai)
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, storetest.Shanghai).Format("2006年1月")
}

// waitForDispatches waits until the demo's store has n dispatches and
// returns their targets as the ledger lists them: "D1 住建局".
func waitForDispatches(t *testing.T, db string, n int) []string {
	t.Helper()
	s, err := models.Open(context.Background(), models.Options{Driver: models.DriverSQLite, DSN: db, Location: storetest.Shanghai})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var ds []models.Dispatch
		err := s.DB(context.Background()).Preload("Targets", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).Preload("Targets.Department").Preload("Targets.Member").Order("id").Find(&ds).Error
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) >= n {
			var out []string
			for _, d := range ds {
				for _, tg := range d.Targets {
					out = append(out, fmt.Sprintf("%s %s", d.Code(), tg.Label()))
				}
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dispatches after 30 s, want %d", len(ds), n)
		}
	}
}
