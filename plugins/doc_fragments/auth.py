# -*- coding: utf-8 -*-
# Copyright (c) dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Must stay identical to AUTH_ARGSPEC in plugins/module_utils/_common.py.
    DOCUMENTATION = r'''
options:
  auth_token:
    description:
      - An IAM token (the C(X-Subject-Token) of an IAM token request), sent as C(X-Auth-Token).
      - If not set, the environment variable E(HW_AUTH_TOKEN) or E(OS_AUTH_TOKEN) is used.
      - Tokens are scoped to one project and expire after 24 hours. Set O(project_id) too, or
        O(project_name) / O(region) so that the project ID can be looked up in IAM.
    type: str
  username:
    description:
      - IAM user name for password authentication.
      - If not set, the environment variable E(OS_USERNAME) is used.
      - Needs O(password), O(domain_name), and a project (O(project_id), O(project_name) or O(region)).
        The module requests one IAM token per task and takes the project ID from its scope.
    type: str
  password:
    description:
      - Password of O(username).
      - If not set, the environment variable E(OS_PASSWORD) is used.
    type: str
  domain_name:
    description:
      - Name of the account (IAM domain) that O(username) belongs to.
      - If not set, the environment variable E(OS_USER_DOMAIN_NAME) or E(OS_DOMAIN_NAME) is used.
    type: str
  project_name:
    description:
      - Name of the IAM project to work in, for example V(eu-de) or V(eu-de_myproject).
      - Used to scope the password token, and to look up the project ID for AK/SK and token
        authentication when O(project_id) is not set. Defaults to the value of O(region).
      - If not set, the environment variable E(OS_PROJECT_NAME) is used.
    type: str
  access_key:
    description:
      - Access key ID (AK) for AK/SK request signing (SDK-HMAC-SHA256).
      - If not set, the environment variable E(HW_ACCESS_KEY) or E(OS_ACCESS_KEY) is used.
      - Needs O(secret_key). Without O(project_id) the project ID is looked up once with a signed
        IAM request for the project named O(project_name) or O(region).
    type: str
  secret_key:
    description:
      - Secret access key (SK) belonging to O(access_key).
      - If not set, the environment variable E(HW_SECRET_KEY) or E(OS_SECRET_KEY) is used.
    type: str
  security_token:
    description:
      - Security token of temporary AK/SK credentials; sent (and signed) as C(X-Security-Token).
      - If not set, the environment variable E(HW_SECURITY_TOKEN) or E(OS_SECURITY_TOKEN) is used.
    type: str
  cloud:
    description:
      - The name of an entry in a C(clouds.yaml) file, or a dictionary shaped like such an entry
        (as the O(cloud) option of C(openstack.cloud) modules takes it), to take credentials, region
        and endpoints from.
      - Files are searched in this order, the first one found is used - E(OS_CLIENT_CONFIG_FILE),
        C(./clouds.yaml), C(~/.config/openstack/clouds.yaml), C(/etc/openstack/clouds.yaml);
        a C(secure.yaml) beside it is merged in the same way.
      - "Understood keys of an entry: C(region_name) (or the first of C(regions)), C(cacert) or
        C(ca_cert), C(verify), C(kms_endpoint_override), C(identity_endpoint_override), and under
        C(auth): C(auth_url), C(username), C(password), C(user_domain_name) or C(domain_name),
        C(project_name), C(project_id), C(token), C(ak)/C(sk) or C(access_key)/C(secret_key),
        C(security_token). C(ak), C(sk) and C(security_token) may also stand directly under the entry."
      - C(kms_endpoint_override) sets the KMS endpoint and C(identity_endpoint_override) the IAM
        endpoint (it wins over C(auth_url)); C(verify=false) turns TLS verification off like
        O(validate_certs=false).
      - "A selected entry is used as a whole, as openstacksdk does: the credentials come from the
        entry alone and no environment variable (E(OS_*), E(HW_*)) is read; module options still
        override its other values (region, endpoints, project)."
      - Secrets inside a dictionary given here are masked in all output like O(password).
      - If not set, the environment variable E(OS_CLOUD) is used. Reading clouds.yaml needs PyYAML.
    type: raw
  project_id:
    description:
      - ID of the IAM project the keys live in (32 hexadecimal characters).
      - If not set, the environment variable E(HW_PROJECT_ID) or E(OS_PROJECT_ID) is used.
      - When unset it is taken from the scope of the password token, or looked up in IAM by
        O(project_name) (or O(region)).
    type: str
  region:
    description:
      - Region, for example V(eu-de), V(eu-nl), V(eu-ch2) or a Huawei Cloud region such as V(cn-north-4).
      - Used to derive O(kms_endpoint) and O(iam_endpoint) when they are not set, to choose
        O(cloud_provider) when that is not set, and as default project name.
      - The known regions are those of Open Telekom Cloud (V(eu-de), V(eu-nl), V(eu-ch2)) and the
        Huawei Cloud regions of the official Huawei Cloud Python SDK's KMS region table. A region in
        neither list fails before any request when an endpoint has to be derived from it; set
        O(cloud_provider), or the endpoints, to use another region.
      - If not set, the environment variable E(HW_REGION_NAME) or E(OS_REGION_NAME) is used.
    type: str
  kms_endpoint:
    description:
      - Base URL of the KMS service, for example V(https://kms.eu-de.otc.t-systems.com).
        A trailing C(/v1.0/...) is ignored; a URL without scheme gets C(https://).
      - If not set, the environment variable E(HW_KMS_ENDPOINT) is used, else it is derived from
        O(region) and O(cloud_provider).
    type: str
  iam_endpoint:
    description:
      - Base URL of IAM (Keystone v3 API), for example V(https://iam.eu-de.otc.t-systems.com/v3).
        C(/v3) is appended when missing.
      - If not set, the environment variable E(HW_IAM_ENDPOINT) or E(OS_AUTH_URL) is used, else it is
        derived from O(region) and O(cloud_provider).
      - Needed for password authentication and for looking up the project ID.
    type: str
  cloud_provider:
    description:
      - Which cloud the endpoints belong to. It selects the host names derived when O(kms_endpoint)
        or O(iam_endpoint) is not set, and the wrapping algorithms the cloud offers (Huawei Cloud
        offers only V(RSAES_OAEP_SHA_256) of those the collection supports; an algorithm the cloud
        does not offer fails before any request).
      - V(otc) (Open Telekom Cloud) gives C(https://kms.<region>.otc.t-systems.com) and
        C(https://iam.<region>.otc.t-systems.com/v3); for V(eu-ch2) C(https://kms.eu-ch2.sc.otc.t-systems.com)
        and C(https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3).
      - V(huaweicloud) gives C(https://kms.<region>.myhuaweicloud.com) (C(myhuaweicloud.eu) for
        V(eu-west-101)) and, as the official SDK does, C(https://iam.<region>.myhuaweicloud.com/v3)
        for the regions of its IAM table and the global C(https://iam.myhuaweicloud.com/v3) for the
        others.
      - If not set, the environment variable E(HW_CLOUD_PROVIDER) is used, else the cloud that
        O(region) belongs to. With a region of neither cloud and the endpoints given, no
        cloud-specific check applies.
    type: str
    choices: [otc, huaweicloud]
  validate_certs:
    description:
      - Verify the TLS certificates of the KMS and IAM endpoints.
      - Set to V(false) only for tests; a warning is shown. Prefer O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificates used to verify the endpoints instead of the system bundle.
      - A path that does not name a readable file fails before any request; the message names the
        option, not the value.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection and for each answer of the KMS and IAM endpoints.
      - An answer that has not arrived completely after this time fails the attempt, so that a
        server that sends slowly or never ends its answer cannot hold the task.
    type: int
    default: 30
  retries:
    description:
      - How many times a request is retried after a connection error, HTTP 429 (throttling) or a
        5xx answer, with jittered exponential backoff; C(Retry-After) is honoured (at most 60 seconds).
        Each retry shows a warning.
      - Requests that change key state are never resent blindly. They are retried when they
        certainly changed nothing (HTTP 429, or no connection could be made), or when the key
        state read back after an unclear failure shows that nothing happened (an import into a
        key still waiting for import, a key creation whose alias does not exist).
      - V(0) disables retries.
    type: int
    default: 3
notes:
  - "B(Authentication) - one of: O(auth_token); O(access_key) and O(secret_key) (with
    O(security_token) for temporary credentials); O(username), O(password) and O(domain_name);
    or O(cloud). Set them once for all modules of the collection with
    C(module_defaults: {group/dew.kms.kms: {...}})."
  - "B(Precedence) - an authentication method given as module options (including C(module_defaults))
    wins over the environment; two different methods given as options are an error. With none
    given as options, the environment decides in this order - token (E(HW_AUTH_TOKEN)/E(OS_AUTH_TOKEN)),
    AK/SK (E(HW_ACCESS_KEY)/E(HW_SECRET_KEY)), password (E(OS_USERNAME)/E(OS_PASSWORD)),
    clouds.yaml (E(OS_CLOUD))."
  - "B(Order of each setting) - without a clouds.yaml entry, the module option, then its environment
    variables. With an entry selected by O(cloud) or E(OS_CLOUD), the module option, then the entry;
    the environment is not read. When module options and environment variables are combined, a
    warning names the environment variables used."
  - "B(Endpoints and credentials) - credentials given as module options are never sent to a
    O(kms_endpoint) or O(iam_endpoint) taken from the environment (E(HW_KMS_ENDPOINT),
    E(HW_IAM_ENDPOINT), E(OS_AUTH_URL)); set the endpoint as an option too, or O(region). A plain
    C(http://) endpoint on a host other than this machine gets a warning."
  - Secrets read from environment variables are masked in the output like O(password).
    Credentials holding a control character (such as a line break inside a pasted token) are
    refused before any request.
  - "B(HTTP) - the only environment variables the HTTP client reads are the proxy variables
    E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) (or their lower-case forms); C(~/.netrc),
    E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) are ignored. Each answer may be at most 1 MiB and
    must arrive completely within O(timeout) seconds."
'''
