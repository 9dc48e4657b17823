//! A small WebDriver client: headless Chromium from Debian's packages, driven through
//! `chromedriver` over the W3C protocol with the HTTP client the tests already use.

use base64::Engine as _;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::TempDir;

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// WebDriver's codes for the special keys the tests press.
pub const KEY_NULL: &str = "\u{E000}";
pub const KEY_TAB: &str = "\u{E004}";
pub const KEY_ENTER: &str = "\u{E007}";
pub const KEY_SHIFT: &str = "\u{E008}";
pub const KEY_CONTROL: &str = "\u{E009}";
pub const KEY_ESCAPE: &str = "\u{E00C}";
pub const KEY_DELETE: &str = "\u{E017}";
pub const KEY_F2: &str = "\u{E032}";

/// How long a page may take to reach what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A browser session; the driver and the browser go away on drop.
pub struct Browser {
    driver: Child,
    url: String,
    session: String,
    _profile: TempDir,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `$env_var` if set, else the first of `names` installed in the usual places.
fn find_program(env_var: &str, names: &[&str]) -> String {
    if let Ok(path) = std::env::var(env_var) {
        return path;
    }
    for name in names {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
            let path = PathBuf::from(dir).join(name);
            if path.exists() {
                return path.display().to_string();
            }
        }
    }
    panic!(
        "none of {names:?} is installed: `apt-get install chromium chromium-driver` (the test command does), or set {env_var}"
    )
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile, 1280×800.
    pub fn start() -> Browser {
        let driver_path = find_program("CHROMEDRIVER", &["chromedriver"]);
        let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let began = Instant::now();
        while ureq::get(&format!("{url}/status")).call().is_err() {
            assert!(began.elapsed() < PATIENCE, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = TempDir::new("chromium");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--window-size=1280,800".into(),
            format!("--user-data-dir={}", profile.0.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}
        }}});
        let mut browser = Browser {
            driver,
            url,
            session: String::new(),
            _profile: profile,
        };
        let created = browser.raw("POST", "/session", Some(caps));
        browser.session = created["sessionId"].as_str().unwrap().to_string();
        browser
    }

    fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url);
        let request = ureq::request(method, &url).timeout(Duration::from_secs(60));
        let response = match body {
            Some(b) => request.send_json(b),
            None => request.call(),
        };
        match response {
            Ok(r) => r.into_json::<Value>().unwrap()["value"].take(),
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {method} {path}: {code} {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.raw(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// Every element matching the CSS `selector`.
    pub fn all(&self, selector: &str) -> Vec<Element> {
        self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": selector})),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Element(e[ELEMENT].as_str().unwrap().to_string()))
        .collect()
    }

    /// Waits until `selector` matches, then returns the first match.
    pub fn wait(&self, selector: &str) -> Element {
        self.wait_for(&format!("an element matching {selector}"), || {
            self.all(selector).into_iter().next()
        })
    }

    /// Polls `probe` until it gives a value.
    pub fn wait_for<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        let began = Instant::now();
        loop {
            if let Some(v) = probe() {
                return v;
            }
            if began.elapsed() > PATIENCE {
                let text = self.run(
                    "return document.body ? document.body.innerText : ''",
                    json!([]),
                );
                panic!("waited {PATIENCE:?} for {what}; the page shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The visible text of every element matching `selector`, read in one
    /// script: the console redraws as it polls, so an element found by one
    /// WebDriver call can be gone (a stale reference) by the next. Like
    /// WebDriver's element text, an element that is not rendered reads "".
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let v = self.run(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getClientRects().length ? e.innerText : '')",
            json!([selector]),
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap_or("").to_string())
            .collect()
    }

    /// The visible text of the first element matching `selector`, if any.
    pub fn first_text(&self, selector: &str) -> Option<String> {
        self.texts(selector).into_iter().next()
    }

    /// Waits until `selector` matches, then returns the first match's text.
    pub fn wait_text(&self, selector: &str) -> String {
        self.wait_for(&format!("an element matching {selector}"), || {
            self.first_text(selector)
        })
    }

    /// Clicks the element as a user does.
    pub fn click(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/click", e.0), Some(json!({})));
    }

    /// Drags with a real mouse, through WebDriver's Actions: presses at viewport point
    /// `from`, moves to `to` in steps (the page sees every pointermove), releases.
    pub fn drag(&self, from: (f64, f64), to: (f64, f64)) {
        let at = |(x, y): (f64, f64), duration: u64| {
            json!({"type": "pointerMove", "duration": duration, "origin": "viewport",
                "x": x.round() as i64, "y": y.round() as i64})
        };
        let mut steps = vec![at(from, 0), json!({"type": "pointerDown", "button": 0})];
        for i in 1..=6 {
            let t = f64::from(i) / 6.0;
            let point = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            steps.push(at(point, 15));
        }
        steps.push(json!({"type": "pointerUp", "button": 0}));
        let mouse = json!({"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": steps});
        self.call("POST", "/actions", Some(json!({"actions": [mouse]})));
        self.call("DELETE", "/actions", None);
    }

    /// Presses keys on the keyboard, through WebDriver's Actions: they go to whatever has
    /// the focus, as a user's keys do. Each entry is one key (`"a"`, or WebDriver's code
    /// for a special key, such as [`KEY_ENTER`]); [`KEY_CONTROL`] is held for the keys
    /// after it.
    pub fn press(&self, keys: &[&str]) {
        let mut steps = Vec::new();
        let mut held = Vec::new();
        for key in keys {
            if *key == KEY_CONTROL || *key == KEY_SHIFT {
                steps.push(json!({"type": "keyDown", "value": key}));
                held.push(*key);
                continue;
            }
            steps.push(json!({"type": "keyDown", "value": key}));
            steps.push(json!({"type": "keyUp", "value": key}));
        }
        for key in held.iter().rev() {
            steps.push(json!({"type": "keyUp", "value": key}));
        }
        let keyboard = json!({"type": "key", "id": "keyboard", "actions": steps});
        self.call("POST", "/actions", Some(json!({"actions": [keyboard]})));
        self.call("DELETE", "/actions", None);
    }

    /// The viewport point at the centre of the first element matching `selector` (where
    /// it is now: nothing is scrolled).
    pub fn centre(&self, selector: &str) -> (f64, f64) {
        self.wait(selector);
        self.point(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2];",
            json!([selector]),
        )
    }

    /// The viewport point a script answers (`return [x, y]`).
    pub fn point(&self, script: &str, args: Value) -> (f64, f64) {
        let p = self.run(script, args);
        (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())
    }

    /// Empties an input or text area.
    pub fn clear(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/clear", e.0), Some(json!({})));
    }

    /// Types `text` into the element, key by key.
    pub fn type_text(&self, e: &Element, text: &str) {
        self.call(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        );
    }

    /// Runs a script in the page and returns its result.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Saves a PNG of the window under `target/console-screenshots/` (a test artifact).
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Resizes the window.
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = ureq::delete(&format!("{}/session/{}", self.url, self.session))
                .timeout(Duration::from_secs(10))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
