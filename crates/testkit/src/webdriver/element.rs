//! One element of a session's page: find inside it, click, type, read its text, attributes
//! and properties, take its picture.

use super::{ELEMENT_KEY, Result, WebDriver, WebDriverError, write_png};
use serde_json::{Value, json};
use std::path::Path;

/// One element in a session.
#[derive(Debug, Clone)]
pub struct Element<'d> {
    driver: &'d WebDriver,
    id: String,
}

impl<'d> Element<'d> {
    pub(super) fn from_value(driver: &'d WebDriver, v: &Value) -> Result<Element<'d>> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| WebDriverError::Protocol(format!("not an element: {v}")))?;
        Ok(Element {
            driver,
            id: id.to_string(),
        })
    }

    /// The W3C element id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// This element as an argument for [`WebDriver::execute`].
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    async fn get(&self, what: &str) -> Result<Value> {
        self.driver
            .get(&format!("element/{}/{what}", self.id))
            .await
    }

    async fn post(&self, what: &str, body: Value) -> Result<Value> {
        self.driver
            .post(&format!("element/{}/{what}", self.id), body)
            .await
    }

    /// The first descendant matching `css`.
    pub async fn find(&self, css: &str) -> Result<Element<'d>> {
        let v = self
            .post("element", json!({"using": "css selector", "value": css}))
            .await?;
        Element::from_value(self.driver, &v)
    }

    /// Every descendant matching `css`.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element<'d>>> {
        let v = self
            .post("elements", json!({"using": "css selector", "value": css}))
            .await?;
        elements_from(self.driver, &v)
    }

    pub async fn click(&self) -> Result<()> {
        self.post("click", json!({})).await.map(|_| ())
    }

    /// Types `text` into the element (use [`keys`](super::keys) for special keys).
    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.post("value", json!({"text": text})).await.map(|_| ())
    }

    pub async fn clear(&self) -> Result<()> {
        self.post("clear", json!({})).await.map(|_| ())
    }

    /// The rendered text, as W3C Get Element Text gives it (empty for a hidden element).
    /// In the app under Xvfb that call answers "" for visible elements too, so there it is
    /// `innerText`, read through a script.
    pub async fn text(&self) -> Result<String> {
        let v = if self.driver.held.webkit_under_xvfb {
            self.driver
                .execute("return arguments[0].innerText;", vec![self.as_arg()])
                .await?
        } else {
            self.get("text").await?
        };
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// An HTML attribute (`None` if absent), e.g. `data-status`.
    pub async fn attribute(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .get(&format!("attribute/{name}"))
            .await?
            .as_str()
            .map(str::to_string))
    }

    /// A DOM property, e.g. `value` of an input or `checked` of a checkbox.
    pub async fn property(&self, name: &str) -> Result<Value> {
        self.get(&format!("property/{name}")).await
    }

    pub async fn is_displayed(&self) -> Result<bool> {
        Ok(self.get("displayed").await?.as_bool().unwrap_or(false))
    }

    pub async fn is_enabled(&self) -> Result<bool> {
        Ok(self.get("enabled").await?.as_bool().unwrap_or(false))
    }

    pub async fn is_selected(&self) -> Result<bool> {
        Ok(self.get("selected").await?.as_bool().unwrap_or(false))
    }

    /// Saves a PNG of just this element.
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> Result<()> {
        let v = self.get("screenshot").await?;
        write_png(&v, path.as_ref())
    }

    /// Chooses the `<option>` whose value is `value` in this `<select>` and fires
    /// `input`/`change` as a user would.
    pub async fn select_value(&self, value: &str) -> Result<()> {
        let found = self
            .driver
            .execute(
                "const [s, v] = arguments;
                 if (![...s.options].some(o => o.value === v)) return false;
                 s.value = v;
                 s.dispatchEvent(new Event('input', {bubbles: true}));
                 s.dispatchEvent(new Event('change', {bubbles: true}));
                 return true;",
                vec![self.as_arg(), json!(value)],
            )
            .await?;
        if found.as_bool() == Some(true) {
            Ok(())
        } else {
            Err(WebDriverError::Protocol(format!(
                "no option {value:?} in the select"
            )))
        }
    }
}

pub(super) fn elements_from<'d>(driver: &'d WebDriver, v: &Value) -> Result<Vec<Element<'d>>> {
    v.as_array()
        .ok_or_else(|| WebDriverError::Protocol(format!("not a list of elements: {v}")))?
        .iter()
        .map(|e| Element::from_value(driver, e))
        .collect()
}
