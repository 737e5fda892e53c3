//! A small element tree read with quick-xml (names by local name, namespaces
//! ignored: clients prefix them as they like), and escaping for the answers
//! the simulator writes.

use quick_xml::events::Event;
use quick_xml::Reader;

/// One XML element: local name, attributes (local names), text, children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// Local name (prefix removed).
    pub name: String,
    /// Attributes by local name.
    pub attributes: Vec<(String, String)>,
    /// Concatenated text content (trimmed).
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name` (local name, case-sensitive as XML is).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// An attribute by local name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the element is `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        matches!(self.attribute("nil"), Some("true") | Some("1"))
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_string(),
        None => name.into_owned(),
    }
}

fn start(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let mut element = Element {
        name: local(e.name().as_ref()),
        ..Element::default()
    };
    for attribute in e.attributes() {
        let attribute = attribute.map_err(|err| err.to_string())?;
        let value = attribute
            .unescape_value()
            .map_err(|err| err.to_string())?
            .into_owned();
        element
            .attributes
            .push((local(attribute.key.as_ref()), value));
    }
    Ok(element)
}

/// Parses a document into its root element.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => stack.push(start(&e)?),
            Event::Empty(e) => {
                let element = start(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.unescape().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Event::Eof => return Err("no root element".into()),
            _ => {}
        }
    }
}

/// Text escaped for element content or attribute values.
pub fn esc(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}
