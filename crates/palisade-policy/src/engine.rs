//! A template compiled for one of its engines: Rego (every Gatekeeper template has it) or its
//! `K8sNativeValidation` CEL.

use serde_json::Value;

use crate::cel::CelTemplate;
use crate::gatekeeper::{PolicyError, Template};
use crate::rego::{RegoTemplate, Violation};

/// Which of a template's engines evaluates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// The Rego code (every Gatekeeper template has it).
    #[default]
    Rego,
    /// The `K8sNativeValidation` (CEL) code; templates without it are not evaluated.
    Cel,
}

/// A template compiled for one engine.
pub enum Compiled {
    Rego(Box<RegoTemplate>),
    Cel(CelTemplate),
}

impl Compiled {
    /// For scans: the Rego, or the CEL when the Rego does not compile (a regorus gap) and
    /// the template has CEL.
    pub fn compile_preferring_rego(template: &Template) -> Result<Compiled, PolicyError> {
        Compiled::compile(template, EngineChoice::Rego).or_else(|rego_error| {
            if template.cel.is_some() {
                Compiled::compile(template, EngineChoice::Cel).map_err(|_| rego_error)
            } else {
                Err(rego_error)
            }
        })
    }

    pub fn compile(template: &Template, engine: EngineChoice) -> Result<Compiled, PolicyError> {
        match engine {
            EngineChoice::Rego => {
                RegoTemplate::compile(template).map(|t| Compiled::Rego(Box::new(t)))
            }
            EngineChoice::Cel => match &template.cel {
                Some(source) => CelTemplate::compile(&template.name, source).map(Compiled::Cel),
                None => Err(PolicyError::Invalid {
                    object: format!("ConstraintTemplate {}", template.name),
                    field: "spec.targets[].code",
                    message: "no K8sNativeValidation (CEL) engine".into(),
                }),
            },
        }
    }

    /// The violations for one review.
    pub fn violations(
        &self,
        review: &Value,
        parameters: &Value,
        inventory: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        match self {
            Compiled::Rego(rego) => rego.violations(review, parameters, inventory),
            Compiled::Cel(cel) => cel.violations(review, parameters),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scan_falls_back_to_cel_when_the_rego_does_not_compile() {
        let template = Template::from_value(&json!({
            "metadata": {"name": "t"},
            "spec": {"crd": {"spec": {"names": {"kind": "T"}}},
                "targets": [{"target": "admission.k8s.gatekeeper.sh", "code": [
                    {"engine": "K8sNativeValidation", "source": {"validations": [
                        {"expression": "has(variables.anyObject.metadata.labels)", "message": "needs labels"}]}},
                    {"engine": "Rego", "source": {"rego": "package t\nviolation[{\"msg\": m}] { this is not rego"}}
                ]}]}
        }))
        .unwrap();
        let compiled = Compiled::compile_preferring_rego(&template).unwrap();
        assert!(matches!(compiled, Compiled::Cel(_)));
        let review = json!({"object": {"metadata": {"name": "x"}}, "operation": "CREATE"});
        let found = compiled
            .violations(&review, &json!({}), &json!({}))
            .unwrap();
        assert_eq!(found[0].msg, "needs labels");
        // Without CEL, the Rego error is the answer.
        let rego_only = Template {
            cel: None,
            ..template
        };
        assert!(Compiled::compile_preferring_rego(&rego_only).is_err());
    }
}
