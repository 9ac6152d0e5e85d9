//! The schemas of the document: gathered from the types' `ToSchema` derives, by name, then
//! written in a shape every client generator takes (`whole`).

use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// The components being gathered, by name.
#[derive(Default)]
pub struct Components {
    schemas: Map<String, Value>,
}

impl Components {
    /// Adds `T`'s schema and those it refers to; answers a reference to it.
    pub fn add<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.insert(name, to_value(schema));
        }
        let name = T::name().to_string();
        self.insert(name.clone(), to_value(T::schema()));
        schema(reference(&name))
    }

    /// The schemas, with each struct that flattens a tagged enum into itself (`allOf` of the
    /// enum's `oneOf` and the struct's own object, as utoipa derives it) written as a `oneOf` of
    /// whole objects, one per variant: what the JSON is, and a shape every client generator
    /// takes (openapi-python-client cannot take `allOf` of a non-object).
    ///
    /// And a variant of a `oneOf` that copies a named schema (utoipa inlines the type argument
    /// of a generic enum, `TimelineItem<TaskHistoryRow>`) refers to it instead.
    pub fn whole(mut self) -> Map<String, Value> {
        let named: std::collections::HashMap<String, String> = (self.schemas.iter())
            .map(|(name, schema)| (schema.to_string(), name.clone()))
            .collect();
        for schema in self.schemas.values_mut() {
            let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
                continue;
            };
            for variant in variants.iter_mut() {
                if let Some(name) = named.get(&variant.to_string()) {
                    *variant = reference(name);
                }
            }
        }
        let names: Vec<String> = self.schemas.keys().cloned().collect();
        for name in names {
            let Some(parts) = self.schemas[&name]["allOf"].as_array().cloned() else {
                continue;
            };
            let (refs, own): (Vec<&Value>, Vec<&Value>) =
                parts.iter().partition(|part| part.get("$ref").is_some());
            let [reference] = refs.as_slice() else {
                continue;
            };
            let [own] = own.as_slice() else { continue };
            let target = reference["$ref"].as_str().unwrap_or_default();
            let target = target.trim_start_matches("#/components/schemas/");
            let Some(variants) = self.schemas.get(target).and_then(|s| s["oneOf"].as_array())
            else {
                continue;
            };
            let merged: Vec<Value> = variants
                .iter()
                .map(|variant| {
                    let mut whole = variant.clone();
                    let properties = whole["properties"].as_object_mut();
                    if let (Some(properties), Some(more)) =
                        (properties, own["properties"].as_object())
                    {
                        properties.extend(more.clone());
                    }
                    let mut required = whole["required"].as_array().cloned().unwrap_or_default();
                    required.extend(own["required"].as_array().cloned().unwrap_or_default());
                    whole["required"] = Value::Array(required);
                    whole
                })
                .collect();
            let schema = self.schemas.get_mut(&name).expect("listed");
            let object = schema.as_object_mut().expect("a schema object");
            object.remove("allOf");
            object.insert("oneOf".into(), Value::Array(merged));
        }
        self.schemas
    }

    /// `T`'s schema written out where it is used (a generic envelope, `Timeline<R>`), with the
    /// schemas it refers to added.
    pub fn inline<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.insert(name, to_value(schema));
        }
        T::schema()
    }

    /// The schemas as gathered, to merge into another's.
    pub fn into_schemas(self) -> Map<String, Value> {
        self.schemas
    }

    pub fn insert(&mut self, name: String, schema: Value) {
        if let Some(known) = self.schemas.get(&name) {
            assert_eq!(known, &schema, "two different schemas are named {name}");
        }
        self.schemas.insert(name, schema);
    }

    /// The variants of an externally tagged enum (`{"<Name>": {...fields}}`, as commands and
    /// events are serialized), each added as `<prefix>.<Name>`: its fields object. Answers the
    /// variants' names and references.
    pub fn add_variants<T: ToSchema>(&mut self, prefix: &str) -> Vec<(String, Value)> {
        let tagged = to_value(T::schema());
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.insert(name, to_value(schema));
        }
        let variants = tagged["oneOf"].as_array().cloned().unwrap_or_default();
        variants
            .into_iter()
            .filter_map(|variant| {
                let properties = variant["properties"].as_object()?;
                let (name, fields) = properties.iter().next()?;
                let component = format!("{prefix}.{name}");
                let mut fields = fields.clone();
                if fields.get("type").is_none() {
                    fields["type"] = json!("object");
                }
                if prefix == "event" {
                    // An event holds exactly its fields, every one present (`null` when
                    // unset): an upcast event included. Commands say so on their bodies.
                    fields["additionalProperties"] = json!(false);
                    let names: Vec<Value> = fields["properties"]
                        .as_object()
                        .map(|p| p.keys().map(|k| json!(k)).collect())
                        .unwrap_or_default();
                    fields["required"] = json!(names);
                }
                self.insert(component.clone(), fields);
                Some((name.clone(), reference(&component)))
            })
            .collect()
    }
}

pub fn to_value(schema: impl serde::Serialize) -> Value {
    serde_json::to_value(schema).expect("a schema serializes")
}

pub fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A schema written as JSON, as an operation takes it.
pub fn schema(value: Value) -> RefOr<Schema> {
    serde_json::from_value(value).expect("a schema")
}
