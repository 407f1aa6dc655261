package orgimport

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"yanzhen/sheet"
)

// MaxYAMLBytes bounds a YAML org file: parsed, YAML takes some twenty times
// its size in memory, and an org of thousands of members is a few hundred KB.
const MaxYAMLBytes = 4 << 20

// ParseYAML reads the YAML org file of DESIGN §4 and §4b: top-level
// departments, members and groups lists. Row numbers are the line numbers of the entries. A malformed
// entry goes to File.Errors; a file that is not YAML at all, or is over
// MaxYAMLBytes, is an error.
func ParseYAML(r io.Reader) (*File, error) {
	text, err := io.ReadAll(io.LimitReader(r, MaxYAMLBytes+1))
	if err != nil {
		return nil, fmt.Errorf("读取组织架构文件：%w", err)
	}
	if len(text) > MaxYAMLBytes {
		return nil, fmt.Errorf("组织架构 YAML 文件超过 %s 上限：请确认文件是否正确", sheet.Size(MaxYAMLBytes))
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(text)).Decode(&doc); err != nil {
		if err == io.EOF {
			return &File{}, nil
		}
		return nil, fmt.Errorf("组织架构文件不是有效的 YAML：%v", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("组织架构文件应包含 departments 和 members 两个列表")
	}
	f := &File{}
	var errs []RowError
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		switch key.Value {
		case "departments":
			f.Departments, errs = decodeRows[Department](val, "departments", errs)
		case "members":
			f.Members, errs = decodeRows[Member](val, "members", errs)
		case "groups":
			f.Groups, errs = decodeRows[Group](val, "groups", errs)
		default:
			errs = append(errs, RowError{Sheet: "file", Row: key.Line, Reason: fmt.Sprintf("未知字段 %s", key.Value)})
		}
	}
	f.Errors = errs
	return f, nil
}

func decodeRows[T any](seq *yaml.Node, section string, errs []RowError) ([]Row[T], []RowError) {
	if seq.Kind != yaml.SequenceNode {
		return nil, append(errs, RowError{Sheet: section, Row: seq.Line, Reason: "应为列表"})
	}
	allowed := yamlKeys(reflect.TypeFor[T]())
	var rows []Row[T]
	for _, item := range seq.Content {
		if reason := unknownKey(item, allowed); reason != "" {
			errs = append(errs, RowError{Sheet: section, Row: item.Line, Reason: reason})
			continue
		}
		var v T
		if err := item.Decode(&v); err != nil {
			errs = append(errs, RowError{Sheet: section, Row: item.Line, Reason: "格式错误：" + yamlReason(err)})
			continue
		}
		rows = append(rows, Row[T]{Sheet: section, Num: item.Line, Value: v})
	}
	return rows, errs
}

func yamlKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		keys[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	return keys
}

func unknownKey(item *yaml.Node, allowed map[string]bool) string {
	if item.Kind != yaml.MappingNode {
		return "应为键值对，如 {code: zjj, name: 住建局}"
	}
	for i := 0; i < len(item.Content); i += 2 {
		if k := item.Content[i].Value; !allowed[k] {
			return fmt.Sprintf("未知字段 %s", k)
		}
	}
	return ""
}

func yamlReason(err error) string {
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		return te.Errors[0]
	}
	return err.Error()
}
