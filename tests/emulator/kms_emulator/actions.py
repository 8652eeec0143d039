"""The KMS v1.0 action table and the common steps of every action call."""

from . import byok, dataops, lifecycle, tags
from .context import Call
from .errors import kms_error
from .messages import Response

ACTIONS = {
    "create-key": lifecycle.create_key,
    "describe-key": lifecycle.describe_key,
    "list-keys": lifecycle.list_keys,
    "enable-key": lifecycle.enable_key,
    "disable-key": lifecycle.disable_key,
    "schedule-key-deletion": lifecycle.schedule_key_deletion,
    "cancel-key-deletion": lifecycle.cancel_key_deletion,
    "update-key-alias": lifecycle.update_key_alias,
    "update-key-description": lifecycle.update_key_description,
    "get-parameters-for-import": byok.get_parameters_for_import,
    "import-key-material": byok.import_key_material,
    "delete-imported-key-material": byok.delete_imported_key_material,
    "get-publickey": dataops.get_publickey,
    "encrypt-data": dataops.encrypt_data,
    "decrypt-data": dataops.decrypt_data,
    "sign": dataops.sign,
    "verify": dataops.verify,
    "user-quotas": lifecycle.user_quotas,
    # key tags: the key id (and tag key) come from the URL, see app.TAG_PATHS
    "show-kms-tags": tags.show_kms_tags,
    "create-kms-tag": tags.create_kms_tag,
    "batch-create-kms-tags": tags.batch_create_kms_tags,
    "delete-kms-tag": tags.delete_kms_tag,
    # query key instances by tag: POST .../kms/resource_instances/action, see app.INSTANCES_PATH
    "list-kms-by-tags": tags.list_kms_by_tags,
}
# Every action is a POST with a JSON body except these.
OTHER_METHODS = {"user-quotas": "GET", "show-kms-tags": "GET", "delete-kms-tag": "DELETE"}


def action_method(action):
    return OTHER_METHODS.get(action, "POST")


def _bad_json(message):
    return kms_error("KMS.0202", message)


def run_action(emulator, action, request, project_id, path_args=()):
    """Run an authenticated KMS action call: 200 with its answer, 204 when it has none."""
    if action_method(action) == "POST":
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("application/json"):
            raise kms_error("KMS.0214", "Content-Type must be application/json")
    call = Call(emulator, project_id, request.json_object(_bad_json))
    call.refuse_undefined_fields(action)
    call.check_sequence()
    answer = ACTIONS[action](call, *path_args)
    return Response(204) if answer is None else Response(200, answer)
