//! Gatekeeper mutators as users write them: any text as a mutator's location, path test and
//! value, of each kind, is refused or applied to any JSON object (or a Pod) without
//! panicking, and an applied mutation has converged (a second pass changes nothing).
//! Run: `cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run mutators`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_policy::mutation::{Mutator, Mutators};
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut parts = text.splitn(4, '\n');
    let location = parts.next().unwrap_or("");
    let sub_path = parts.next().unwrap_or("");
    let value = parts.next().unwrap_or("");
    let object: Value = parts
        .next()
        .and_then(|o| serde_json::from_str(o).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
        });
    let kind = ["Assign", "AssignMetadata", "ModifySet", "AssignImage"][usize::from(selector % 4)];
    let parameters = match kind {
        "ModifySet" => json!({"operation": if selector & 4 == 0 { "merge" } else { "prune" },
            "values": {"fromList": [value]}}),
        "AssignImage" => json!({"assignDomain": value, "assignTag": format!(":{value}")}),
        _ if selector & 8 == 0 => {
            json!({"assign": {"value": serde_json::from_str::<Value>(value).unwrap_or(json!(value))}})
        }
        _ => json!({"assign": {"fromMetadata": {"field": value}}}),
    };
    let mut parameters = parameters;
    if selector & 16 != 0 {
        parameters["pathTests"] = json!([{"subPath": sub_path,
            "condition": if selector & 32 == 0 { "MustExist" } else { "MustNotExist" }}]);
    }
    let mutator = json!({"apiVersion": "mutations.gatekeeper.sh/v1", "kind": kind,
        "metadata": {"name": "fuzz"},
        "spec": {"applyTo": [{"groups": [""], "kinds": ["Pod"], "versions": ["v1"]}],
            "location": location, "parameters": parameters}});
    let Ok(mutator) = Mutator::from_value(&mutator) else {
        return;
    };
    let (mutators, _) = Mutators::new(vec![mutator], Vec::new());
    let mut object = object;
    if mutators
        .mutate(&mut object, true, None, Some("CREATE"), false)
        .is_ok()
    {
        let once = object.clone();
        assert_eq!(
            mutators.mutate(&mut object, true, None, Some("CREATE"), false),
            Ok(false)
        );
        assert_eq!(object, once);
    }
});
