/* Tests of the Go text/template engine (util/template.h). Expected outputs
 * and error messages were checked against Go's text/template with Docker's
 * function map over json.Unmarshal'ed data, except where the engine
 * deliberately differs: JSON integers stay integers (Go decodes float64, so
 * it prints 1e+06 and refuses eq 1 1.0), null prints "<nil>" (Docker's typed
 * nil pointers) rather than "<no value>", join takes any JSON array, truncate
 * counts runes, field errors name the JSON type rather than "interface {}",
 * json escapes \b and \f and range takes an integer as newer Go does, and
 * some errors come at parse time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/strutil.h"
#include "util/template.h"
#include "util/xalloc.h"

/* A case: the template, the JSON data (NULL for none), and the output, or
 * "PARSE: msg" / "EXEC: msg" for the exact error message. */
struct tcase {
	const char *tmpl;
	const char *data;
	const char *want;
};

/* Renders one case into a string: the output or the error, tagged. */
static char *render(const char *text, const char *data)
{
	_cleanup_json_ json_t *j = NULL;
	if (data) {
		json_error_t jerr;
		j = json_loads(data, JSON_DECODE_ANY, &jerr);
		if (!j)
			fail_msg("bad test data %s: %s", data, jerr.text);
	}
	struct scow_error *err = NULL;
	struct tmpl *t = tmpl_parse(text, &err);
	if (!t) {
		char *s = xasprintf("PARSE: %s", err->msg);
		error_free(err);
		return s;
	}
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	char *s;
	if (tmpl_execute(t, j, &sb, &err) < 0) {
		s = xasprintf("EXEC: %s", err->msg);
		error_free(err);
		assert_int_equal(sb.len, 0);
	} else {
		assert_null(err);
		assert_non_null(sb.buf);
		assert_int_equal(strlen(sb.buf), sb.len);
		s = sb_steal(&sb);
	}
	tmpl_free(t);
	return s;
}

static void run_cases(const struct tcase *cases, size_t n)
{
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *got = render(cases[i].tmpl, cases[i].data);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("case %zu: template \"%s\" data %s\n   got: \"%s\"\n  want: \"%s\"\n",
				    i, cases[i].tmpl, cases[i].data ? cases[i].data : "(none)", got,
				    cases[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

#define RUN(cases) run_cases(cases, ARRAY_SIZE(cases))

static const char container[] =
	"{\"Id\":\"4f2a9c\",\"Name\":\"/web\",\"Args\":[\"-g\",\"daemon off;\"],"
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"Pid\":4242,\"ExitCode\":0,"
	"\"Health\":null},"
	"\"Config\":{\"Image\":\"nginx:1.25\",\"Env\":[\"PATH=/usr/bin\",\"A=<b>&c\"],"
	"\"Labels\":{\"com.example.x\":\"val\",\"maintainer\":\"me\"},\"Tty\":false,"
	"\"Cmd\":null},"
	"\"Mounts\":[{\"Source\":\"/srv\",\"Destination\":\"/data\",\"RW\":true},"
	"{\"Source\":\"/etc/x\",\"Destination\":\"/x\",\"RW\":false}],"
	"\"NetworkSettings\":{\"Ports\":{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\","
	"\"HostPort\":\"8080\"}],\"443/tcp\":null}}}";

static void test_fields(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"plain text", NULL, "plain text"},
		{"", NULL, ""},
		{"{{.Name}}", container, "/web"},
		{"{{.State.Pid}}", container, "4242"},
		{"{{.State.Running}} {{.Config.Tty}}", container, "true false"},
		{"{{.Config.Labels.maintainer}}", container, "me"},
		{"{{.Missing}}", container, "<no value>"},
		{"{{.Missing.Deeper.Still}}", container, "<no value>"},
		{"{{.State.Health}}", container, "<nil>"},
		{"{{.Config.Cmd}}", container, "<nil>"},
		{"{{.}}", "\"just a string\"", "just a string"},
		{"{{.}}", "42", "42"},
		{"{{.}}", NULL, "<no value>"},
		{"{{$}}", "[1,2]", "[1 2]"},
		{"{{$.a}}", "{\"a\":1}", "1"},
		{"{{.Größe}}", "{\"Größe\":3}", "3"},
		{"{{.a.b.c.d}}", "{\"a\":{\"b\":{\"c\":{\"d\":\"x\"}}}}", "x"},
		{"{{$x := .a}}{{$x.b}}", "{\"a\":{\"b\":1}}", "1"},
		{"{{(.A).B}}", "{\"A\":{\"B\":\"b\"}}", "b"},
		{"{{(index .L 0).x}}", "{\"L\":[{\"x\":9}]}", "9"},
	};
	RUN(cases);
}

static void test_printing(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{.}}", "[1,\"two\",3.5,null,true]", "[1 two 3.5 <nil> true]"},
		{"{{.}}", "{\"b\":[1,2],\"a\":\"x\",\"c\":{}}", "map[a:x b:[1 2] c:map[]]"},
		{"{{.A}}", "{\"A\":{\"b\":{\"c\":[1,{\"d\":null}]}}}", "map[b:map[c:[1 map[d:<nil>]]]]"},
		{"{{.A}}|{{.B}}|{{.C}}|", "{\"A\":[],\"B\":{},\"C\":\"\"}", "[]|map[]||"},
		{"{{.}}", "[1.5,0.1,100.0,1e6,123456789.0,1e20,1e21,1e-4,1e-5,-0.0,2.5e-300]",
		 "[1.5 0.1 100 1e+06 1.23456789e+08 1e+20 1e+21 0.0001 1e-05 -0 2.5e-300]"},
		{"{{.}}", "[1234567.0,100000.0,0.000012345,1.7976931348623157e308,5e-324]",
		 "[1.234567e+06 100000 1.2345e-05 1.7976931348623157e+308 5e-324]"},
		{"{{.}}", "[1000000,-42,9223372036854775807]", "[1000000 -42 9223372036854775807]"},
		{"{{1e6}}|{{1.0}}|{{0.1}}|{{-2.50}}", NULL, "1e+06|1|0.1|-2.5"},
	};
	RUN(cases);
}

static void test_literals(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{\"a\\tb\\n\"}}", NULL, "a\tb\n"},
		{"{{\"\\x41\\101\\u00e9\\U0001F600\\a\\\"\\\\\"}}", NULL, "AAé😀\a\"\\"},
		{"{{`raw\\n`}}|{{`a\r\nb`}}", NULL, "raw\\n|a\nb"},
		{"{{'a'}}|{{'\\n'}}|{{'é'}}|{{'\\''}}|{{'\\x41'}}|{{'\\u00e9'}}", NULL,
		 "97|10|233|39|65|233"},
		{"{{0x1F}}|{{0o17}}|{{017}}|{{0b101}}|{{1_000}}|{{-0x10}}|{{+7}}|{{0x_1}}", NULL,
		 "31|15|15|5|1000|-16|7|1"},
		{"{{1.5e3}}|{{.5}}|{{0x1p4}}|{{1e100}}|{{-0.0}}|{{1_000.000_1}}|{{1e-400}}", NULL,
		 "1500|0.5|16|1e+100|-0|1000.0001|0"},
		{"{{9223372036854775807}}|{{-9223372036854775808}}", NULL,
		 "9223372036854775807|-9223372036854775808"},
		{"{{true}}|{{false}}", NULL, "true|false"},
		{"{{printf \"%v\" nil}}", NULL, "<nil>"},
		{"{{-3}} {{- -3}}", NULL, "-3-3"},
	};
	RUN(cases);
}

static void test_trim_and_comments(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"a {{- 3 -}} b {{- \"x\" }} c", NULL, "a3bx c"},
		{"x\n{{- 3 -}}\ny", NULL, "x3y"},
		{"{{- /* c */ -}}  x  {{- /* d */}}  y {{/* e */ -}}  z", NULL, "x  y z"},
		{"x{{/* comment */}}y", NULL, "xy"},
		{"x {{- /* multi\nline */ -}} y", NULL, "xy"},
		{"  {{- .a -}}  \n\t{{- .b}}", "{\"a\":1,\"b\":2}", "12"},
		{"{{.a -}}\n\n  x", "{\"a\":1}", "1x"},
		{"{{1 -}}  b", NULL, "1b"},
		{"{{ .a }}{{\t.a\t}}{{\n.a\n}}", "{\"a\":1}", "111"},
		{"{{range .}}\n  {{- .}},\n{{- end}}", "[1,2]", "1,2,"},
	};
	RUN(cases);
}

static void test_if_with(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{if .A}}yes{{else}}no{{end}}", "{\"A\":true}", "yes"},
		{"{{if .A}}yes{{else}}no{{end}}", "{\"A\":false}", "no"},
		{"{{if .A}}a{{else if .B}}b{{else if .C}}c{{else}}d{{end}}",
		 "{\"A\":false,\"B\":0,\"C\":\"x\"}", "c"},
		{"{{if .A}}a{{else if .B}}b{{end}}", "{}", ""},
		{"{{if 0.0}}t{{else}}f{{end}}|{{if -1}}t{{end}}|{{with .M}}t{{else}}f{{end}}", NULL,
		 "f|t|f"},
		{"{{if .a}}t{{else}}f{{end}}", "{\"a\":\"0\"}", "t"},
		{"{{if .a}}t{{else}}f{{end}}", "{\"a\":[]}", "f"},
		{"{{if .a}}t{{else}}f{{end}}", "{\"a\":{}}", "f"},
		{"{{if .a}}t{{else}}f{{end}}", "{\"a\":null}", "f"},
		{"{{with .A}}{{.}}{{else}}none{{end}}|{{with .B}}{{.x}}{{end}}",
		 "{\"A\":\"\",\"B\":{\"x\":7}}", "none|7"},
		{"{{with $x := .B}}{{$x.x}}{{.x}}{{end}}", "{\"B\":{\"x\":7}}", "77"},
		{"{{with .a}}A{{else with .b}}B{{.}}{{else}}C{{end}}", "{\"b\":5}", "B5"},
		{"{{if $x := .a}}{{$x}}{{else}}{{$x}}no{{end}}", "{\"a\":0}", "0no"},
		{"{{if and .A .B}}y{{else}}n{{end}}|{{if or .A .B}}y{{else}}n{{end}}",
		 "{\"A\":true,\"B\":false}", "n|y"},
	};
	RUN(cases);
}

static void test_range(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{range .}}[{{.}}]{{end}}", "[1,\"two\",3.5]", "[1][two][3.5]"},
		{"{{range $i, $e := .}}{{$i}}={{$e}};{{end}}", "[\"a\",\"b\"]", "0=a;1=b;"},
		{"{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", "{\"z\":1,\"a\":2,\"m\":{\"q\":1}}",
		 "a=2;m=map[q:1];z=1;"},
		{"{{range $e := .}}{{$e}},{{end}}", "{\"b\":1,\"a\":2}", "2,1,"},
		{"{{range .}}x{{else}}empty{{end}}", "[]", "empty"},
		{"{{range .}}x{{else}}empty{{end}}", "{}", "empty"},
		{"{{range .N}}x{{else}}empty{{end}}", "{\"N\":null}", "empty"},
		{"{{range .Missing}}x{{else}}empty{{end}}", "{}", "empty"},
		{"{{range .}}{{else}}{{.}}{{end}}", "[]", "[]"},
		{"{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", "[1,2,3,4]", "12"},
		{"{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", "[1,2,3,4]", "134"},
		{"{{range .}}{{with .}}{{continue}}{{end}}x{{end}}y", "[1,0]", "xy"},
		{"{{range .}}{{range .}}{{break}}{{end}}{{.}}{{end}}", "[[1],[2]]", "[1][2]"},
		{"{{range .A}}{{range .}}{{.}}{{$.N}}{{end}};{{end}}",
		 "{\"A\":[[1,2],[3]],\"N\":\"n\"}", "1n2n;3n;"},
		{"{{range $i, $a := .A}}{{range $j, $b := $a}}{{$i}}{{$j}}{{$b}} {{end}}{{end}}",
		 "{\"A\":[[1,2],[3]]}", "001 012 103 "},
		{"{{range 3}}{{.}}{{end}}", NULL, "012"},
		{"{{$x := 1}}{{range .}}{{$x = .}}{{end}}{{$x}}", "[5,6,7]", "7"},
		{"{{$x := 1}}{{range $x := .}}{{$x}}{{end}}{{$x}}", "[7,8]", "781"},
		{"{{$i := 0}}{{$e := 0}}{{range $i, $e = .}}{{$i}}{{$e}}{{end}}|{{$i}}{{$e}}",
		 "[\"a\",\"b\"]", "0a1b|1b"},
	};
	RUN(cases);
}

static void test_variables_and_pipelines(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", NULL, "21"},
		{"{{$x := 1}}{{with .}}{{$x = 3}}{{end}}{{$x}}", "{\"a\":1}", "3"},
		{"{{$a := 1}}{{$b := 2}}{{$a = $b}}{{$a}}", NULL, "2"},
		{"{{$x := . | len}}{{$x}}", "[1,2,3]", "3"},
		{"{{.Name | upper | printf \"%s!\"}}", "{\"Name\":\"web\"}", "WEB!"},
		{"{{\"a\" | printf \"%s%s\" \"b\"}}", NULL, "ba"},
		{"{{printf \"%d\" (len .) | printf \"<%s>\"}}", "[1,2]", "<2>"},
		{"{{printf \"%s-%s\" (index .A 0) (index .A 1)}}", "{\"A\":[\"x\",\"y\"]}", "x-y"},
		{"{{((1))}}|{{(((.a)))}}", "{\"a\":5}", "1|5"},
		{"{{.a | not | not}}", "{\"a\":1}", "true"},
		{"{{0 | and 1}}|{{1 | or 0}}|{{3 | and 1 2}}", NULL, "0|1|3"},
	};
	RUN(cases);
}

static void test_builtins(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{and 1 0 2}}|{{or 0 \"\" 3}}|{{and 1 2 3}}|{{or 0 \"\" false}}", NULL,
		 "0|3|3|false"},
		/* and/or stop at the deciding value: .X.Y would fail */
		{"{{and 0 .X.Y}}|{{or 1 .X.Y}}", "{\"X\":\"s\"}", "0|1"},
		{"{{not 0}}|{{not \"\"}}|{{not .a}}|{{not .n}}|{{not .e}}",
		 "{\"a\":[],\"n\":null,\"e\":[1]}", "true|true|true|true|false"},
		{"{{len \"héllo\"}}|{{len .A}}|{{len .M}}", "{\"A\":[1,2],\"M\":{\"a\":1}}", "6|2|1"},
		{"{{index .L \"missing\"}}|{{index .A 1}}|{{index .A 0 1}}",
		 "{\"L\":{\"a\":1},\"A\":[[5,6],2]}", "<no value>|2|6"},
		{"{{index . \"a\" \"b\" 1}}", "{\"a\":{\"b\":[10,20]}}", "20"},
		{"{{index \"abc\" 1}}|{{index .}}", "[1]", "98|[1]"},
		{"{{slice .A 1}}|{{slice .A 1 2}}|{{slice \"hello\" 1 3}}|{{slice .A 0 1 2}}",
		 "{\"A\":[1,2,3]}", "[2 3]|[2]|el|[1]"},
		{"{{slice . 2}}|{{slice . 2 2}}|{{slice .}}", "[1,2]", "[]|[]|[1 2]"},
		{"{{print 1 2 \"a\" \"b\" 3 .N .M}}", "{\"N\":null}", "1 2ab3 <nil> <nil>"},
		{"{{print}}|{{print \"a\" 1 2 \"b\" nil 3}}", NULL, "|a1 2b<nil> 3"},
		{"{{println 1 \"a\" .N}}", "{\"N\":null}", "1 a <nil>\n"},
		{"{{eq 1 1}}|{{eq 1 2 3 1}}|{{eq 1 1.0}}|{{ne \"a\" \"b\"}}|{{eq true true}}", NULL,
		 "true|true|true|true|true"},
		{"{{eq \"a\" \"b\" \"a\"}}|{{eq \"a\" \"b\" \"c\"}}|{{ne 1.5 1.5}}|{{eq true false}}",
		 NULL, "true|false|false|false"},
		{"{{eq .N nil}}|{{eq .N .M}}|{{eq .N \"x\"}}|{{eq .Missing \"x\"}}", "{\"N\":null}",
		 "true|true|false|false"},
		{"{{lt 1 2}}|{{lt 1.5 2}}|{{le 2 2}}|{{gt \"b\" \"a\"}}|{{ge 1.5 2}}|{{lt \"b\" \"a\"}}",
		 NULL, "true|true|true|true|false|false"},
		{"{{html \"<a href=\\\"x\\\">&'\" 1}}|{{html .N}}|{{html 1 2}}", "{\"N\":null}",
		 "&lt;a href=&#34;x&#34;&gt;&amp;&#39;1|&lt;no value&gt;|1 2"},
		{"{{js \"a\\\"b'<>&=\\\\ é \\u2028 \\x01\"}}", NULL,
		 "a\\\"b\\'\\u003C\\u003E\\u0026\\u003D\\\\ é \\u2028 \\u0001"},
		{"{{urlquery \"a b&c=d/é~_.-\"}}|{{urlquery \"x\" \"y\" 3}}", NULL,
		 "a+b%26c%3Dd%2F%C3%A9~_.-|xy3"},
	};
	RUN(cases);
}

static void test_printf(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{printf \"%d %s %v %t %x %X %o %b %c %q %U\" 42 \"s\" 1.5 true 255 255 8 5 65 65 "
		 "65}}",
		 NULL, "42 s 1.5 true ff FF 10 101 A 'A' U+0041"},
		{"{{printf \"%e %E %g %G %f %F %T\" 1234.5678 0.000012 1234.5678 1e21 3.14159 2.5 .}}",
		 "[1]", "1.234568e+03 1.200000E-05 1234.5678 1E+21 3.141590 2.500000 []interface {}"},
		{"{{printf \"%-10s|%10s|%5d|%-5d|%05d|%+d|% d\" \"ab\" \"cd\" 3 4 42 42 42}}", NULL,
		 "ab        |        cd|    3|4    |00042|+42| 42"},
		{"{{printf \"%05s|%.2s|%5.1s|%.0s|\" \"ab\" \"héllo\" \"héllo\" \"x\"}}", NULL,
		 "000ab|hé|    h||"},
		{"{{printf \"%-05d|%0-5d|%-08.2f|%0-6s|\" 42 42 1.5 \"ab\"}}", NULL,
		 "42   |42   |1.50    |ab    |"},
		{"{{printf \"%.2f|%8.3f|%-8.2f|%08.3f|%+.1e|%6.2f%%\" 3.14159 2.0 1.5 -3.5 12345.678 "
		 "99.5}}",
		 NULL, "3.14|   2.000|1.50    |-003.500|+1.2e+04| 99.50%"},
		{"{{printf \"%x|%.3x|%10.4v|%#x|%#o|%08x|%#08x|%.0d|%6.2d\" 1.5 1.0 3.14159265 255 8 "
		 "255 255 0 5}}",
		 NULL, "0x1.8p+00|0x1.000p+00|     3.142|0xff|010|000000ff|0x000000ff||    05"},
		{"{{printf \"%q|%+q|%#q|%q|%x|% x|%#x|%X\" \"héllo\\n\\x01\" \"héllo\" \"back\" 10 "
		 "\"hello\" \"hi\" \"hi\" \"é\"}}",
		 NULL, "\"héllo\\n\\x01\"|\"h\\u00e9llo\"|`back`|'\\n'|68656c6c6f|68 69|0x6869|C3A9"},
		{"{{printf \"%c|%c|%#U|%O|%#b|%x|%X\" 128512 -1 233 8 5 -255 -255}}", NULL,
		 "😀|\xEF\xBF\xBD|U+00E9 'é'|0o10|0b101|-ff|-FF"},
		{"{{printf \"%5v|%-6v|%s\" .A .M .A}}", "{\"A\":[1,\"a\"],\"M\":{\"b\":1,\"a\":\"x\"}}",
		 "[    1     a]|map[a     :x      b     :1     ]|[%!s(int=1) a]"},
		{"{{printf \"%#v|%#v|%#v\" .A .M \"s\"}}",
		 "{\"A\":[1,\"a\",null],\"M\":{\"b\":1,\"a\":\"x\"}}",
		 "[]interface {}{1, \"a\", interface {}(nil)}|"
		 "map[string]interface {}{\"a\":\"x\", \"b\":1}|\"s\""},
		{"{{printf \"%T|%T|%T|%T|%T|%T\" 1 1.5 \"s\" true .M nil}}", "{\"M\":{}}",
		 "int|float64|string|bool|map[string]interface {}|<nil>"},
		{"{{printf \"%v|%d|%s\" .N .N .N}}|{{printf \"%v\" .Missing}}", "{\"N\":null}",
		 "<nil>|%!d(<nil>)|%!s(<nil>)|<nil>"},
		{"{{printf \"%d|%s|%t|%5d|%-5s|\" \"str\" 12 \"x\" \"ab\" 3}}", NULL,
		 "%!d(string=str)|%!s(int=12)|%!t(string=x)|%!d(string=   ab)|%!s(int=3    )|"},
		{"{{printf \"%d %d\" 1}}|{{printf \"%d\" 1 2 \"x\"}}|{{printf \"%\"}}|{{printf \"%z\" 1}}",
		 NULL, "1 %!d(MISSING)|1%!(EXTRA int=2, string=x)|%!(NOVERB)|%!z(int=1)"},
		{"{{printf \"%[2]d %[1]d|%*d|%-*d|\" 1 2 5 4 3}}|{{printf \"%[3]*[1]d|\" 7 0 4}}", NULL,
		 "2 1| 5|3   ||   7|"},
		{"{{printf \"%[3]d\" 1}}|{{printf \"%[x]d\" 1}}|{{printf \"%.*d\" \"x\" 1}}", NULL,
		 "%!d(BADINDEX)|%!d(BADINDEX)|%!(BADPREC)1"},
		/* JSON may turn 2.0 into 2: float verbs take integers, %d integral reals */
		{"{{printf \"%.2f|%d\" .I .R}}", "{\"I\":2,\"R\":3.0}", "2.00|3"},
	};
	RUN(cases);
}

static void test_docker_funcs(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{json .}}", "{\"b\":{\"y\":1,\"x\":[true,false,null]},\"a\":\"q\"}",
		 "{\"a\":\"q\",\"b\":{\"x\":[true,false,null],\"y\":1}}"},
		/* Docker's json does not escape HTML; U+2028/9 and controls it does */
		{"{{json .}}", "\"<&>\\u2028\\b\\f\\u0001\\\"\\\\/é\"",
		 "\"<&>\\u2028\\b\\f\\u0001\\\"\\\\/é\""},
		{"{{json .}}", "[1e20,1e21,12345678.9,0.000001,0.0000001,-2.5e-8,100,1.5,-0.0]",
		 "[100000000000000000000,1e+21,12345678.9,0.000001,1e-7,-2.5e-8,100,1.5,-0]"},
		{"{{json .A}}|{{json .M}}|{{json .N}}|{{json .Missing}}|{{json 1.0}}|{{json \"x\"}}",
		 "{\"A\":[],\"M\":{},\"N\":null}", "[]|{}|null|null|1|\"x\""},
		{"{{json \"\\xff\"}}", NULL, "\"\\ufffd\""},
		{"{{join .Args \",\"}}|{{join .E \", \"}}|{{join .Mixed \"-\"}}",
		 "{\"Args\":[\"a\",\"b\",\"c\"],\"E\":[],\"Mixed\":[1,\"x\",true]}", "a,b,c||1-x-true"},
		{"{{split .S \":\"}}|{{len (split .S \":\")}}|{{index (split .S \":\") 1}}",
		 "{\"S\":\"a:b:c\"}", "[a b c]|3|b"},
		{"{{split \"héllo\" \"\"}}|{{split \"\" \",\"}}|{{split \"a,,b\" \",\"}}", NULL,
		 "[h é l l o]|[]|[a  b]"},
		{"{{split \"aaa\" \"aa\"}}|{{split \"a\" \"xyz\"}}|{{.a | split \",\"}}", "{\"a\":\"x\"}",
		 "[ a]|[a]|[,]"},
		{"{{title \"hello wOrld foo_bar a-b x.y 3a éa\"}}", NULL,
		 "Hello WOrld Foo_bar A-B X.Y 3a Éa"},
		{"{{lower \"HeLLo ÉΑ\"}}|{{upper \"hello éα\"}}|{{upper \"\"}}", NULL,
		 "hello éα|HELLO ÉΑ|"},
		{"{{pad .S 2 3}}|{{pad \"\" 2 3}}|{{pad \"x\" 0 0}}", "{\"S\":\"hi\"}", "  hi   ||x"},
		{"{{truncate .S 3}}|{{truncate .S 30}}|{{truncate .S 0}}|{{truncate \"héllo\" 2}}",
		 "{\"S\":\"hello\"}", "hel|hello||hé"},
	};
	RUN(cases);
}

static void test_docker_formats(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{.State.Pid}}", container, "4242"},
		{"{{json .Config}}", container,
		 "{\"Cmd\":null,\"Env\":[\"PATH=/usr/bin\",\"A=<b>&c\"],\"Image\":\"nginx:1.25\","
		 "\"Labels\":{\"com.example.x\":\"val\",\"maintainer\":\"me\"},\"Tty\":false}"},
		{"{{range .Mounts}}{{.Source}} {{end}}", container, "/srv /etc/x "},
		{"{{index .Config.Labels \"com.example.x\"}}", container, "val"},
		{"{{if eq .State.Status \"running\"}}up{{else}}down{{end}}", container, "up"},
		{"{{if eq .State.Status \"exited\"}}up{{else}}down{{end}}", container, "down"},
		{"{{join .Args \",\"}}", container, "-g,daemon off;"},
		{"{{printf \"%-10s|\" .Name}}", container, "/web      |"},
		{"{{.Repository}}:{{.Tag}}", "{\"Repository\":\"alpine\",\"Tag\":\"3.19\"}",
		 "alpine:3.19"},
		{"{{upper .Name | printf \"%q\"}}", container, "\"/WEB\""},
		{"{{range $p, $conf := .NetworkSettings.Ports}}{{$p}}->{{if $conf}}"
		 "{{(index $conf 0).HostPort}}{{else}}none{{end}} {{end}}",
		 container, "443/tcp->none 80/tcp->8080 "},
		{"{{range $k, $v := .Config.Labels -}} {{ $k }}={{ $v }} {{ end -}}", container,
		 "com.example.x=val maintainer=me "},
		{"{{range .Config.Env}}{{$.Name}}:{{.}}\n{{end}}", container,
		 "/web:PATH=/usr/bin\n/web:A=<b>&c\n"},
		{"{{with .State.Health}}{{.Status}}{{else}}no healthcheck{{end}}", container,
		 "no healthcheck"},
		{"{{.Id | printf \"%.3s\"}} {{len .Mounts}} {{.State.ExitCode}}", container,
		 "4f2 2 0"},
		{"{{range .Mounts}}{{if .RW}}{{.Destination}}{{end}}{{end}}", container, "/data"},
		{"{{.Config.Env}}", container, "[PATH=/usr/bin A=<b>&c]"},
		{"{{.Config.Labels}}", container, "map[com.example.x:val maintainer:me]"},
		{"{{title (lower .State.Status)}} ({{truncate .Id 4}})", container,
		 "Running (4f2a)"},
		{"{{pad .Config.Image 1 1}}|", container, " nginx:1.25 |"},
	};
	RUN(cases);
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{.Foo", NULL, "PARSE: template: :1: unclosed action"},
		{"{{if .A}}", NULL, "PARSE: template: :1: unexpected EOF"},
		{"{{range .}}x{{else}}", NULL, "PARSE: template: :1: unexpected EOF"},
		{"{{end}}", NULL, "PARSE: template: :1: unexpected {{end}}"},
		{"{{else}}", NULL, "PARSE: template: :1: unexpected {{else}}"},
		{"{{if 1}}{{else}}x{{else}}y{{end}}", NULL,
		 "PARSE: template: :1: expected end; found {{else}}"},
		{"{{foo 1}}", NULL, "PARSE: template: :1: function \"foo\" not defined"},
		{"{{.x | foo}}", NULL, "PARSE: template: :1: function \"foo\" not defined"},
		{"{{$x}}", NULL, "PARSE: template: :1: undefined variable \"$x\""},
		{"{{if $x := 1}}{{end}}{{$x}}", NULL,
		 "PARSE: template: :1: undefined variable \"$x\""},
		{"{{$x = 1}}", NULL, "PARSE: template: :1: undefined variable \"$x\""},
		{"{{break}}", NULL, "PARSE: template: :1: {{break}} outside {{range}}"},
		{"{{range .}}{{else}}{{continue}}{{end}}", NULL,
		 "PARSE: template: :1: {{continue}} outside {{range}}"},
		{"{{range .}}{{break x}}{{end}}", NULL,
		 "PARSE: template: :1: unexpected \"x\" in {{break}}"},
		{"{{/* c */ }}", NULL, "PARSE: template: :1: comment ends before closing delimiter"},
		{"a{{/* c", NULL, "PARSE: template: :1: unclosed comment"},
		{"{{ /* c */ }}", NULL, "PARSE: template: :1: unexpected \"/\" in command"},
		{"{{.Foo}", NULL, "PARSE: template: :1: bad character U+007D '}'"},
		{"{{.Foo }", NULL, "PARSE: template: :1: unexpected \"}\" in operand"},
		{"{{\"abc}}", NULL, "PARSE: template: :1: unterminated quoted string"},
		{"{{`abc}}", NULL, "PARSE: template: :1: unterminated raw quoted string"},
		{"{{'a", NULL, "PARSE: template: :1: unterminated character constant"},
		{"{{'ab'}}", NULL, "PARSE: template: :1: malformed character constant: 'ab'"},
		{"{{\"\\q\"}}", NULL, "PARSE: template: :1: invalid syntax"},
		{"{{1x}}", NULL, "PARSE: template: :1: bad number syntax: \"1x\""},
		{"{{9223372036854775808}}", NULL,
		 "PARSE: template: :1: integer overflow: \"9223372036854775808\""},
		{"{{1i}}", NULL, "PARSE: template: :1: complex numbers are not supported: \"1i\""},
		{"{{#}}", NULL, "PARSE: template: :1: unexpected \"#\" in command"},
		{"{{\x01}}", NULL, "PARSE: template: :1: unrecognized character in action: U+0001"},
		{"{{(1}}", NULL, "PARSE: template: :1: unclosed left paren"},
		{"{{1)}}", NULL, "PARSE: template: :1: unexpected \")\" in command"},
		{"{{}}", NULL, "PARSE: template: :1: missing value for command"},
		{"{{if}}{{end}}", NULL, "PARSE: template: :1: missing value for if"},
		{"{{1 | 2}}", NULL, "PARSE: template: :1: non executable command in pipeline stage 2"},
		{"{{\"x\".Foo}}", NULL, "PARSE: template: :1: unexpected . after term \"\\\"x\\\"\""},
		{"{{.a..b}}", NULL, "PARSE: template: :1: unexpected <.> in operand"},
		{"{{range $i, $e, $f := .}}{{end}}", NULL,
		 "PARSE: template: :1: too many declarations in range"},
		{"{{range $i, 3 := .}}{{end}}", NULL,
		 "PARSE: template: :1: range can only initialize variables"},
		{"{{if $a, $b := 1}}{{end}}", NULL, "PARSE: template: :1: too many declarations in if"},
		{"{{end x}}", NULL, "PARSE: template: :1: unexpected \"x\" in end"},
		{"{{range .}}{{else if .x}}{{end}}", NULL,
		 "PARSE: template: :1: unexpected <if> in input"},
		{"{{$x := 1}}{{$x : 1}}", NULL, "PARSE: template: :1: expected :="},
		{"{{template \"x\"}}", NULL, "PARSE: template: :1: {{template}} is not supported"},
		{"{{1+2i}}", NULL, "PARSE: template: :1: complex numbers are not supported: \"1+2i\""},
		{"{{1+2}}", NULL, "PARSE: template: :1: bad number syntax: \"1+2\""},
		{"{{08}}", NULL, "PARSE: template: :1: integer overflow: \"08\""},
		{"{{1_.5}}", NULL, "PARSE: template: :1: illegal number syntax: \"1_.5\""},
		{"{{0x1.8}}", NULL, "PARSE: template: :1: illegal number syntax: \"0x1.8\""},
		{"{{.", NULL, "PARSE: template: :1: illegal number syntax: \".\""},
		{"{{\u2192}}", NULL,
		 "PARSE: template: :1: unrecognized character in action: U+2192 '\u2192'"},
		{"{{.a\n", NULL, "PARSE: template: :2: unclosed action started at :1"},
		{"{{.a\n1x}}", NULL,
		 "PARSE: template: :2: bad number syntax: \"1x\" in action started at :1"},
		{"a\nb\n{{.x\n}}\n{{foo}}", NULL, "PARSE: template: :5: function \"foo\" not defined"},
		{"{{if .a}}\n{{else}}\n{{end}}{{end}}", NULL, "PARSE: template: :3: unexpected {{end}}"},
	};
	RUN(cases);
}

static void test_exec_errors(void **state)
{
	(void)state;
	static const struct tcase cases[] = {
		{"{{.Foo.Bar}}", "{\"Foo\":\"x\"}",
		 "EXEC: template: :1:6: executing \"\" at <.Foo.Bar>: can't evaluate field Bar in "
		 "type string"},
		{"{{.x}}", "[1]",
		 "EXEC: template: :1:2: executing \"\" at <.x>: can't evaluate field x in type "
		 "[]interface {}"},
		{"{{.N.Foo}}", "{\"N\":null}",
		 "EXEC: template: :1:4: executing \"\" at <.N.Foo>: nil pointer evaluating "
		 "interface {}.Foo"},
		{"line1\nline2 {{index .a 5}}", "{\"a\":[1]}",
		 "EXEC: template: :2:8: executing \"\" at <index .a 5>: error calling index: index "
		 "out of range: 5"},
		{"{{$x := 1}}{{$x.Foo}}", NULL,
		 "EXEC: template: :1:15: executing \"\" at <$x.Foo>: can't evaluate field Foo in "
		 "type int"},
		{"{{.X | .Y}}", "{\"Y\":{}}",
		 "EXEC: template: :1:7: executing \"\" at <.Y>: Y is not a method but has arguments"},
		{"{{1 2}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <1>: can't give argument to non-function 1"},
		{"{{nil}}", NULL, "EXEC: template: :1:2: executing \"\" at <nil>: nil is not a command"},
		{"{{range .S}}x{{end}}", "{\"S\":\"abc\"}",
		 "EXEC: template: :1:8: executing \"\" at <.S>: range can't iterate over abc"},
		{"{{len}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <len>: wrong number of args for len: want 1 "
		 "got 0"},
		{"{{and}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <and>: wrong number of args for and: want at "
		 "least 1 got 0"},
		{"{{len 3}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <len 3>: error calling len: len of type int"},
		{"{{len .N}}", "{\"N\":null}",
		 "EXEC: template: :1:2: executing \"\" at <len .N>: error calling len: len of nil "
		 "pointer"},
		{"{{eq .A .A}}", "{\"A\":[1]}",
		 "EXEC: template: :1:2: executing \"\" at <eq .A .A>: error calling eq: non-comparable "
		 "type [%!s(int=1)]: []interface {}"},
		{"{{eq 1 \"x\"}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <eq 1 \"x\">: error calling eq: "
		 "incompatible types for comparison"},
		{"{{eq 1}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument "
		 "for comparison"},
		{"{{lt true false}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid "
		 "type for comparison"},
		{"{{index .N 1}}", "{\"N\":null}",
		 "EXEC: template: :1:2: executing \"\" at <index .N 1>: error calling index: index of "
		 "untyped nil"},
		{"{{index .L \"missing\" \"x\"}}", "{\"L\":{}}",
		 "EXEC: template: :1:2: executing \"\" at <index .L \"missing\" \"x\">: error calling "
		 "index: index of nil pointer"},
		{"{{index .M 1}}", "{\"M\":{\"a\":1}}",
		 "EXEC: template: :1:2: executing \"\" at <index .M 1>: error calling index: value has "
		 "type int; should be string"},
		{"{{slice .A 2 1}}", "{\"A\":[1,2,3]}",
		 "EXEC: template: :1:2: executing \"\" at <slice .A 2 1>: error calling slice: invalid "
		 "slice index: 2 > 1"},
		{"{{slice \"abc\" 1 2 3}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <slice \"abc\" 1 2 3>: error calling slice: "
		 "cannot 3-index slice a string"},
		{"{{printf 1}}", NULL,
		 "EXEC: template: :1:9: executing \"\" at <1>: expected string; found 1"},
		{"{{upper .M}}", NULL,
		 "EXEC: template: :1:8: executing \"\" at <.M>: invalid value; expected string"},
		{"{{truncate .a 2}}", "{\"a\":5}",
		 "EXEC: template: :1:11: executing \"\" at <.a>: wrong type for value; expected "
		 "string; got int"},
		{"{{join \"a\" \",\"}}", NULL,
		 "EXEC: template: :1:7: executing \"\" at <\"a\">: can't handle \"a\" for arg of type "
		 "[]string"},
		{"{{pad \"a\" \"x\" 1}}", NULL,
		 "EXEC: template: :1:10: executing \"\" at <\"x\">: expected integer; found \"x\""},
		{"{{split nil \"x\"}}", NULL,
		 "EXEC: template: :1:8: executing \"\" at <nil>: cannot assign nil to string"},
		{"{{pad \"a\" -1 1}}", NULL,
		 "EXEC: template: :1:2: executing \"\" at <pad \"a\" -1 1>: error calling pad: "
		 "strings: negative Repeat count"},
		/* the error wins over output already made */
		{"ok {{.a}} {{.a.b}}", "{\"a\":1}",
		 "EXEC: template: :1:14: executing \"\" at <.a.b>: can't evaluate field b in type "
		 "int"},
	};
	RUN(cases);
}

/* One parsed template renders many rows, and the same row twice alike. */
static void test_reuse(void **state)
{
	(void)state;
	struct scow_error *err = NULL;
	struct tmpl *t = tmpl_parse("{{range $i, $e := .L}}{{$i}}{{$e}}{{end}}|{{$x := .N}}{{$x}}",
				    &err);
	assert_non_null(t);
	static const char *rows[] = {"{\"L\":[\"a\"],\"N\":1}", "{\"L\":[],\"N\":2}",
				     "{\"L\":[\"b\",\"c\"],\"N\":3}", "{\"L\":[\"a\"],\"N\":1}"};
	static const char *want[] = {"0a|1", "|2", "0b1c|3", "0a|1"};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		_cleanup_json_ json_t *j = json_loads(rows[i], 0, NULL);
		_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
		assert_int_equal(tmpl_execute(t, j, &sb, &err), 0);
		assert_string_equal(sb.buf, want[i]);
	}
	tmpl_free(t);
	tmpl_free(NULL);
}

/* Output is appended; on failure, out is left as it was. */
static void test_append_and_rollback(void **state)
{
	(void)state;
	struct scow_error *err = NULL;
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "head:");
	struct tmpl *ok = tmpl_parse("{{.}}", &err);
	struct tmpl *bad = tmpl_parse("partial {{.x}}", &err);
	assert_non_null(ok);
	assert_non_null(bad);
	_cleanup_json_ json_t *j = json_string("v");
	assert_int_equal(tmpl_execute(ok, j, &sb, &err), 0);
	assert_string_equal(sb.buf, "head:v");
	assert_int_equal(tmpl_execute(bad, j, &sb, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errnum, EINVAL);
	assert_string_equal(sb.buf, "head:v");
	assert_int_equal(sb.len, 6);
	error_free(err);
	tmpl_free(ok);
	tmpl_free(bad);
}

/* Hostile nesting is refused instead of exhausting the stack. */
static void test_nesting_limit(void **state)
{
	(void)state;
	_cleanup_sb_ struct strbuf deep = STRBUF_INIT, ok = STRBUF_INIT;
	sb_append(&deep, "{{");
	for (int i = 0; i < 5000; i++)
		sb_appendc(&deep, '(');
	sb_append(&ok, "{{");
	for (int i = 0; i < 200; i++)
		sb_appendc(&ok, '(');
	sb_append(&ok, "7");
	for (int i = 0; i < 200; i++)
		sb_appendc(&ok, ')');
	sb_append(&ok, "}}");
	_cleanup_free_ char *got = render(ok.buf, NULL);
	assert_string_equal(got, "7");
	_cleanup_free_ char *err = render(deep.buf, NULL);
	assert_string_equal(err, "PARSE: template: :1: template nests too deeply");
	_cleanup_sb_ struct strbuf ifs = STRBUF_INIT;
	for (int i = 0; i < 3000; i++)
		sb_append(&ifs, "{{if 1}}");
	_cleanup_free_ char *err2 = render(ifs.buf, NULL);
	assert_string_equal(err2, "PARSE: template: :1: template nests too deeply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_printing),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_trim_and_comments),
		cmocka_unit_test(test_if_with),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_variables_and_pipelines),
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_docker_funcs),
		cmocka_unit_test(test_docker_formats),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_append_and_rollback),
		cmocka_unit_test(test_nesting_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
