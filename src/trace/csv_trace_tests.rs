//! Tests of `csv_trace.rs` (kept apart so the module itself stays short).
use super::*;
use crate::request::hash_key;
use crate::trace::read_all;

fn read(text: &str, options: &str) -> Result<Vec<Request>, Error> {
    let options: CsvOptions = options.parse().expect("valid options");
    let input: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
    let mut reader = CsvReader::new(input, "t.csv", &options, false)?;
    read_all(&mut reader)
}

fn keys(requests: &[Request]) -> Vec<u64> {
    requests.iter().map(|r| r.key).collect()
}

#[test]
fn options_parse_every_key_and_delimiter() {
    let o: CsvOptions = "key=2,size=3,time=1,op=4,ttl=5,header=no,delim=tab"
        .parse()
        .expect("valid");
    assert_eq!(o.key, Some(Column::Index(2)));
    assert_eq!(o.ttl, Some(Column::Index(5)));
    assert_eq!((o.header, o.delimiter), (HeaderMode::No, b'\t'));
    let o: CsvOptions = "key=lbn,delim=,,size=size"
        .parse()
        .expect("comma delimiter");
    assert_eq!(
        (o.key, o.size, o.delimiter),
        (
            Some(Column::Name("lbn".into())),
            Some(Column::Name("size".into())),
            b','
        )
    );
    let o: CsvOptions = "delim=,".parse().expect("trailing comma delimiter");
    assert_eq!(o.delimiter, b',');
    assert_eq!(
        "delim=space".parse::<CsvOptions>().map(|o| o.delimiter),
        Ok(b' ')
    );
    assert_eq!("".parse::<CsvOptions>(), Ok(CsvOptions::default()));
}

#[test]
fn bad_options_say_what_is_wrong() {
    for (text, needle) in [
        ("key=0", "from 1"),
        ("colour=2", "unknown option `colour`"),
        ("header=maybe", "auto, yes or no"),
        ("delim=ab", "one ASCII"),
        ("key", "no `=`"),
    ] {
        let err = text.parse::<CsvOptions>().expect_err(text).to_string();
        assert!(err.contains(needle) && err.contains(text), "{err}");
    }
}

#[test]
fn headerless_by_index() {
    let got = read("5,a,10\n6,b,20\n", "key=2,size=3,time=1").expect("valid");
    assert_eq!(keys(&got), vec![hash_key(b"a"), hash_key(b"b")]);
    assert_eq!(got[1].time, 6);
    assert_eq!(got[1].size, 20);
}

#[test]
fn header_is_detected_and_names_resolve() {
    let text = "version,time,op,size,lbn\n1,100,read,512,42\n1,101,write,4096,43\n";
    let by_index = read(text, "key=5,size=4,time=2,op=3").expect("auto header");
    let by_name = read(text, "key=lbn,size=size,time=time,op=op").expect("names");
    assert_eq!(by_index, by_name);
    assert_eq!(keys(&by_index), vec![42, 43]);
    assert_eq!(by_index[1].op, Op::Set);
    // A first row of numbers is data.
    assert_eq!(read("7,1\n8,2\n", "").expect("no header").len(), 2);
    // Default options on a header without `key`: every field is a name, so it is a header.
    assert_eq!(keys(&read("lbn,size\n9,1\n", "").expect("header")), vec![9]);
}

#[test]
fn missing_column_name_lists_the_header() {
    let err = read("a,b\n1,2\n", "key=lbn")
        .expect_err("no such column")
        .to_string();
    assert!(
        err.contains("t.csv") && err.contains("`lbn`") && err.contains("a, b"),
        "{err}"
    );
}

#[test]
fn malformed_fields_name_the_line() {
    let err = read("k,size\n1,5\n2,lots\n", "key=1,size=2")
        .expect_err("bad size")
        .to_string();
    assert!(
        err.contains("t.csv") && err.contains("line 3") && err.contains("decimal size"),
        "{err}"
    );
    let err = read("1,get\n2,frob\n", "op=2")
        .expect_err("bad op")
        .to_string();
    assert!(err.contains("line 2") && err.contains("operation"), "{err}");
    let err = read("1,2\n3\n", "size=2")
        .expect_err("short row")
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("at least 2 fields"),
        "{err}"
    );
}

#[test]
fn skip_bad_counts() {
    let options: CsvOptions = "size=2".parse().expect("valid");
    let input: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(b"1,2\n2,x\n3\n4,5\n".to_vec()));
    let mut reader = CsvReader::new(input, "t.csv", &options, true).expect("opens");
    assert_eq!(keys(&read_all(&mut reader).expect("skip_bad")), vec![1, 4]);
    assert_eq!(reader.skipped(), 2);
}

#[test]
fn written_csv_reads_back_with_default_options() {
    let requests = vec![
        Request {
            time: 3,
            key: 10,
            size: 5,
            op: Op::Set,
            ttl: 60,
            next_access: 2,
        },
        Request {
            time: 4,
            key: hash_key(b"x"),
            size: 1,
            op: Op::Get,
            ttl: 0,
            next_access: NEVER,
        },
        Request {
            time: 5,
            key: 10,
            size: 5,
            op: Op::Delete,
            ttl: 0,
            next_access: NEVER,
        },
    ];
    let mut bytes = Vec::new();
    write_csv(&mut bytes, &requests).expect("in-memory write");
    let text = String::from_utf8(bytes).expect("ascii");
    assert!(
        text.starts_with("time,key,size,op,ttl,next_access\n3,10,5,set,60,2\n"),
        "{text}"
    );
    assert_eq!(read(&text, "").expect("reads back"), requests);
}

#[test]
fn semicolons_and_quotes() {
    let got = read("\"a;b\";7\nc;8\n", "delim=;,size=2,header=no").expect("valid");
    assert_eq!(keys(&got), vec![hash_key(b"a;b"), hash_key(b"c")]);
}

/// The error reading `text` gives (a short panic message when it reads).
fn error(text: &str, options: &str) -> String {
    match read(text, options) {
        Ok(requests) => panic!("read {} requests, expected an error", requests.len()),
        Err(e) => e.to_string(),
    }
}

fn open(text: &[u8], options: &str) -> Result<CsvReader, Error> {
    let options: CsvOptions = options.parse().expect("valid options");
    CsvReader::new(
        Box::new(io::Cursor::new(text.to_vec())),
        "t.csv",
        &options,
        false,
    )
}

#[test]
fn libcachesim_header_names_pick_the_columns() {
    // libCacheSim's data/cloudPhysicsIO.csv header, with its SCSI opcodes in `op`.
    let mut text = String::from("version,time,op,size,lbn\n");
    for i in 0..20 {
        text.push_str(&format!("1,{},2a,512,{}\n", 100 + i, 42 + i % 7));
    }
    let reader = open(text.as_bytes(), "").expect("header by name");
    let notes = reader.notes().join("\n");
    assert!(notes.contains("key=lbn,size=size,time=time"), "{notes}");
    assert!(
        notes.contains("not using `op` (column 3)") && notes.contains("\"2a\""),
        "{notes}"
    );
    let got = read(&text, "").expect("reads");
    assert_eq!(got.len(), 20);
    assert_eq!(
        (got[3].key, got[3].size, got[3].time, got[3].op),
        (45, 512, 103, Op::Get)
    );
    // Other spellings of the same roles.
    let got = read("Timestamp,Obj-ID,obj_size\n5,a,10\n6,b,20\n", "").expect("aliases");
    assert_eq!(keys(&got), vec![hash_key(b"a"), hash_key(b"b")]);
    assert_eq!((got[1].time, got[1].size), (6, 20));
    // A column the options name is required to parse, not dropped.
    let err = error(&text, "op=op");
    assert!(err.contains("line 2") && err.contains("operation"), "{err}");
}

#[test]
fn a_default_key_column_with_one_value_is_refused() {
    let mut text = String::from("version,seq,blk\n");
    for i in 0..KEY_CHECK_ROWS + 5 {
        text.push_str(&format!("1,{i},{}\n", i % 13));
    }
    let err = error(&text, "");
    assert!(
        err.contains("`version` (column 1)")
            && err.contains("one value (\"1\")")
            && err.contains("first 1000 rows")
            && err.contains("version, seq, blk"),
        "{err}"
    );
    // Naming the column accepts it; naming another one reads it.
    assert_eq!(
        read(&text, "key=1").expect("named").len(),
        KEY_CHECK_ROWS + 5
    );
    assert_eq!(
        keys(&read(&text, "key=blk").expect("named"))[..3],
        [0, 1, 2]
    );
    // Headerless files are checked too; a handful of rows is too few to judge.
    let err = read(&"7,1\n".repeat(12), "")
        .expect_err("constant")
        .to_string();
    assert!(
        err.contains("column 1") && err.contains("numbered from 1"),
        "{err}"
    );
    assert_eq!(
        read(&"7,1\n".repeat(5), "")
            .expect("too few to judge")
            .len(),
        5
    );
    // Rows after the first 1000 read normally, in order.
    let got = read(&text, "key=3").expect("all rows");
    assert_eq!(
        got.last().map(|r| r.key),
        Some(((KEY_CHECK_ROWS + 4) % 13) as u64)
    );
}

#[test]
fn binary_input_is_refused_at_its_line() {
    let err = read("1,2\n3,4\n5\0,6\n", "").expect_err("NUL").to_string();
    assert!(
        err.contains("t.csv: line 3") && err.contains("binary file"),
        "{err}"
    );
    let err = read("1,2\n\x01\x02\n", "")
        .expect_err("control")
        .to_string();
    assert!(err.contains("line 2"), "{err}");
    // A control byte that is the delimiter is fine.
    let got = read("a\x01b\nc\x01d\n", "delim=\x01,header=no").expect("^A delimited");
    assert_eq!(keys(&got), vec![hash_key(b"a"), hash_key(b"c")]);
    // Bytes of 128 and up are text (UTF-8 keys).
    assert_eq!(
        read("ключ,1\nclé,2\n", "header=no").expect("utf-8").len(),
        2
    );
}

#[test]
fn records_over_a_mebibyte_are_refused_quoted_or_not() {
    let mut long = b"1,2\n3,".to_vec();
    long.extend(std::iter::repeat_n(b'7', MAX_LINE + 10));
    long.extend(b"\n");
    let err = error(std::str::from_utf8(&long).expect("ascii"), "");
    assert!(
        err.contains("line 2") && err.contains("at most 1 MiB"),
        "{err}"
    );
    // A quoted field of many short lines is one record: bounded too.
    let mut quoted = b"1,2\n3,\"".to_vec();
    for _ in 0..(MAX_LINE / 3 + 10) {
        quoted.extend(b"ab\n");
    }
    quoted.extend(b"\"\n");
    let err = error(std::str::from_utf8(&quoted).expect("ascii"), "");
    assert!(err.contains("at most 1 MiB"), "{err}");
    // Escaped quotes and multi-line quoted fields under the limit read normally.
    let got = read("\"a\"\"b\",1\n\"c\nd\",2\n", "header=no").expect("quotes");
    assert_eq!(keys(&got), vec![hash_key(b"a\"b"), hash_key(b"c\nd")]);
}
