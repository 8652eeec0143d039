"""Cloud profiles: what each cloud's API reference defines, request fields and answer shapes.

Every table here is a fact of the profile's reference; tests/emulator/README.md names the page
behind each one. A profile is strict by design: the emulator refuses what its reference does not
define, so a client proven against it relies on documented behaviour only.
"""

import dataclasses

_KEY_ONLY = ("key_id", "sequence")

# OTC api-ref, api-ref/source/apis/key_management_service/cmk_management/*.rst, "Request
# parameters" tables. encrypted_privatekey is not in the import table; it is accepted because the
# OTC user manual documents importing asymmetric material (see README).
_OTC_REQUEST_FIELDS = {
    "create-key": ("key_alias", "key_spec", "key_usage", "key_description", "origin", "sequence"),
    "describe-key": _KEY_ONLY,
    "list-keys": ("limit", "marker", "key_state", "sequence"),
    "enable-key": _KEY_ONLY,
    "disable-key": _KEY_ONLY,
    "schedule-key-deletion": ("key_id", "pending_days", "sequence"),
    "cancel-key-deletion": _KEY_ONLY,
    "update-key-alias": ("key_id", "key_alias", "sequence"),
    "update-key-description": ("key_id", "key_description", "sequence"),
    "get-parameters-for-import": ("key_id", "wrapping_algorithm", "sequence"),
    "import-key-material": ("key_id", "import_token", "encrypted_key_material",
                            "encrypted_privatekey", "expiration_time", "sequence"),
    "delete-imported-key-material": _KEY_ONLY,
    "get-publickey": _KEY_ONLY,
    "encrypt-data": ("key_id", "encryption_context", "plain_text", "sequence"),
    "decrypt-data": ("cipher_text", "encryption_context", "sequence"),
    "sign": ("key_id", "message", "signing_algorithm", "message_type", "sequence"),
    "verify": ("key_id", "message", "signature", "signing_algorithm", "message_type",
               "sequence"),
    "user-quotas": (),
    # querying_cmk_tags.rst, adding_a_cmk_tag.rst, adding_or_deleting_cmk_tags_in_batches.rst,
    # deleting_a_cmk_tag.rst
    "show-kms-tags": ("sequence",),
    "create-kms-tag": ("tag", "sequence"),
    "batch-create-kms-tags": ("tags", "action", "sequence"),
    "delete-kms-tag": ("sequence",),
    # querying_cmk_instances.rst
    "list-kms-by-tags": ("tags", "limit", "offset", "action", "matches", "sequence"),
}

# huaweicloudsdkkms 3.1.219, huaweicloudsdkkms/v2/model/*_request_body.py (openapi_types).
_HUAWEI_REQUEST_FIELDS = {
    "create-key": ("key_alias", "key_spec", "key_usage", "key_description", "origin",
                   "enterprise_project_id", "sequence", "keystore_id", "vm_id"),
    "describe-key": _KEY_ONLY,
    "list-keys": ("limit", "marker", "key_state", "key_spec", "enterprise_project_id",
                  "sequence"),
    "enable-key": _KEY_ONLY,
    "disable-key": _KEY_ONLY,
    "schedule-key-deletion": ("key_id", "pending_days", "sequence"),
    "cancel-key-deletion": _KEY_ONLY,
    "update-key-alias": ("key_id", "key_alias", "sequence"),
    "update-key-description": ("key_id", "key_description", "sequence"),
    "get-parameters-for-import": ("key_id", "wrapping_algorithm", "sequence"),
    "import-key-material": ("key_id", "import_token", "encrypted_key_material",
                            "encrypted_privatekey", "expiration_time", "sequence"),
    "delete-imported-key-material": _KEY_ONLY,
    "get-publickey": _KEY_ONLY,
    "encrypt-data": ("key_id", "plain_text", "encryption_algorithm",
                     "additional_authenticated_data", "sequence"),
    "decrypt-data": ("cipher_text", "encryption_algorithm", "key_id",
                     "additional_authenticated_data", "sequence"),
    "sign": ("key_id", "message", "signing_algorithm", "message_type", "sequence"),
    "verify": ("key_id", "message", "signature", "signing_algorithm", "message_type",
               "sequence"),
    "user-quotas": (),
    # ShowKmsTagsRequest (no body), CreateKmsTagRequestBody (tag, sequence),
    # BatchCreateKmsTagsRequestBody (tags, action, sequence), DeleteTagRequest (no body)
    "show-kms-tags": ("sequence",),
    "create-kms-tag": ("tag", "sequence"),
    "batch-create-kms-tags": ("tags", "action", "sequence"),
    "delete-kms-tag": ("sequence",),
    # ListKmsByTagsRequestBody (limit, offset, action, tags, matches, sequence)
    "list-kms-by-tags": ("limit", "offset", "action", "tags", "matches", "sequence"),
}

# describe-key: OTC "key_info" table of querying_the_information_about_a_cmk.rst;
# Huawei: model KeyDetails.
_OTC_DESCRIBE_FIELDS = (
    "key_id", "domain_id", "key_alias", "realm", "key_description", "key_spec", "key_usage",
    "creation_date", "scheduled_deletion_date", "key_state", "default_key_flag", "key_type",
    "expiration_time", "origin")
_HUAWEI_KEY_DETAILS = _OTC_DESCRIBE_FIELDS + (
    "key_rotation_enabled", "sys_enterprise_project_id", "keystore_id")
# list-keys entries: OTC the example of querying_the_list_of_cmks.rst (no key_spec, no key_usage);
# Huawei: KeyDetails again.
_OTC_LIST_FIELDS = tuple(name for name in _OTC_DESCRIBE_FIELDS
                         if name not in ("key_spec", "key_usage"))


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    region: str
    request_fields: dict           # action -> fields its reference defines
    wrapping_algorithms: tuple     # offered by get-parameters-for-import
    unavailable_wrapping: tuple    # documented, but not offered in this emulated region
    describe_fields: tuple         # key_info of describe-key
    list_fields: tuple             # entries of list-keys key_details
    create_fields: tuple           # key_info of create-key
    list_key_spec_default: object  # list-keys filter when key_spec is absent (None: every key)
    list_key_specs: tuple          # key_spec values list-keys accepts (empty: field undefined)
    decrypt_base64: bool           # decrypt-data also answers plain_text_base64

    def defines(self, action, field):
        return field in self.request_fields[action]


PROFILES = {
    "otc": Profile(
        name="otc", region="eu-de", request_fields=_OTC_REQUEST_FIELDS,
        wrapping_algorithms=("RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"),
        unavailable_wrapping=(),
        describe_fields=_OTC_DESCRIBE_FIELDS, list_fields=_OTC_LIST_FIELDS,
        create_fields=("key_id", "domain_id"),
        list_key_spec_default=None, list_key_specs=(), decrypt_base64=False),
    "huaweicloud": Profile(
        name="huaweicloud", region="cn-north-4", request_fields=_HUAWEI_REQUEST_FIELDS,
        wrapping_algorithms=("RSAES_OAEP_SHA_256",),
        unavailable_wrapping=("SM2_ENCRYPT",),
        describe_fields=_HUAWEI_KEY_DETAILS, list_fields=_HUAWEI_KEY_DETAILS,
        create_fields=("key_id", "domain_id", "region_id"),
        list_key_spec_default="AES_256",
        list_key_specs=("AES_256", "SM4", "RSA_2048", "RSA_3072", "RSA_4096", "EC_P256",
                        "EC_P384", "SM2", "ALL"),
        decrypt_base64=True),
}
DEFAULT_PROFILE = "otc"
