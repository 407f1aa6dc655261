package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportTicketsCommand(t *testing.T) {
	eachDatabase(t, func(t *testing.T, cfg string, environ []string) {
		if code, _, stderr := runCLI(t, environ, "import", "org", "demo/org.yaml", "-c", cfg); code != exitOK {
			t.Fatalf("import org: %d %s", code, stderr)
		}
		export := filepath.Join(t.TempDir(), "12345导出.xlsx")
		code, _, stderr := runCLI(t, environ, "gen", "tickets", "200", "--out", export, "--days", "20", "-c", cfg)
		if code != exitOK || !strings.Contains(stderr, "已生成 200 条工单") {
			t.Fatalf("gen: %d %s", code, stderr)
		}
		code, stdout, stderr := runCLI(t, environ, "import", "tickets", export, "-c", cfg)
		if code != exitOK || strings.TrimSpace(stdout) != "新增 200, 更新 0, 未变 0, 错误 0" {
			t.Fatalf("first import: %d %q %s", code, stdout, stderr)
		}
		_, stdout, _ = runCLI(t, environ, "import", "tickets", export, "-c", cfg)
		if strings.TrimSpace(stdout) != "新增 0, 更新 0, 未变 200, 错误 0" {
			t.Errorf("second import: %q", stdout)
		}

		bad := filepath.Join(t.TempDir(), "bad.csv")
		writeFile(t, bad, "工单编号,受理时间,承办单位\nB1,2026-11-20 09:00,住建局\nB2,2026-11-20 09:00,不存在的局\nB3,2026-11-20 09:00,不存在的局\n")
		code, stdout, stderr = runCLI(t, environ, "import", "tickets", bad, "-c", cfg)
		if code != exitFail || strings.TrimSpace(stdout) != "新增 1, 更新 0, 未变 0, 错误 2" ||
			strings.TrimSpace(stderr) != `第 3 行 承办单位：未知的部门 "不存在的局"`+"\n"+`第 4 行 承办单位：未知的部门 "不存在的局"`+"\n"+
				"承办单位“不存在的局”未找到对应单位，共 2 行未导入：如为已有单位的其他叫法，请在组织架构文件中为该单位添加别名（aliases），导入组织架构后再导入本文件" {
			t.Errorf("bad rows: %d %q %q", code, stdout, stderr)
		}
		writeFile(t, bad, "序号,名称\n1,x\n")
		code, _, stderr = runCLI(t, environ, "import", "tickets", bad, "-c", cfg)
		if code != exitFail || !strings.HasPrefix(stderr, "yanzhen: 缺少必需的列：工单编号") {
			t.Errorf("unreadable file: %d %q", code, stderr)
		}
	})
}

// writeFile writes a test's file.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHolidayCommand(t *testing.T) {
	cfg := writeConfig(t, "")
	steps := []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"holiday", "add", "2027-02-06", "off", "春节"}, exitOK, "2027-02-06：已设为休息日"},
		{[]string{"holiday", "add", "2027-02-20", "work", "春节调休"}, exitOK, "2027-02-20：已设为工作日（调休上班）"},
		{[]string{"holiday", "add", "2027-02-06", "off", "春节"}, exitOK, "2027-02-06：已设为休息日（未变）"},
		{[]string{"holiday", "list", "2027"}, exitOK, "内置日历只含 2026 年及以前的节假日；2027 年的安排请按国务院办公厅通知用 holiday add 录入。\n" +
			"2027 年的调整（2 条）：\n2027-02-06 休息 春节\n2027-02-20 上班 春节调休"},
		{[]string{"holiday", "del", "2027-02-20"}, exitOK, "2027-02-20：已删除调整，恢复内置日历"},
		{[]string{"holiday", "list", "2026"}, exitOK, "2026 年没有调整记录"},
		{[]string{"holiday", "del", "2027-02-20"}, exitFail, ""},
		{[]string{"holiday", "add", "2027-13-01", "off"}, exitFail, ""},
		{[]string{"holiday", "add", "2027-02-06", "holiday"}, exitUsage, ""},
		{[]string{"holiday", "list", "next"}, exitUsage, ""},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, nil, append(s.args, "-c", cfg)...)
		if code != s.code || strings.TrimSpace(stdout) != s.stdout {
			t.Errorf("%v: %d %q %q", s.args, code, stdout, stderr)
		}
	}
}

func TestGenWritesToStdout(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "gen", "tickets", "3", "--format", "csv", "--style", "wuhan")
	lines := strings.Split(strings.TrimSpace(stdout), "\r\n")
	if code != exitOK || len(lines) != 4 || !strings.HasPrefix(lines[0], "\ufeff办件编号,来电时间") {
		t.Errorf("gen to stdout: %d %q", code, stdout)
	}
	if code, _, _ := runCLI(t, nil, "gen", "tickets", "many"); code != exitUsage {
		t.Errorf("bad N: %d", code)
	}
}
