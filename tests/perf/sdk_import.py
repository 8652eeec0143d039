# Copyright: dew.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario C of the benchmark: the floor without Ansible.

A plain loop over the keys with the official ``huaweicloudsdkkms`` client and AK/SK auth:
get-parameters-for-import, RSA-OAEP-SHA256 wrap of the 32-byte material with ``cryptography``,
import-key-material. Usage: ``python sdk_import.py JOB.json`` where the job file holds
``kms_endpoint``, ``project_id``, ``access_key``, ``secret_key`` and
``keys: [{key_id, key_material_path}]``. The SDK writes ~/.huaweicloud/application_id: the
benchmark points HOME at a temporary directory.
"""

import base64
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkkms.v2 import (CreateParametersForImportRequest,
                                  GetParametersForImportRequestBody, ImportKeyMaterialRequest,
                                  ImportKeyMaterialRequestBody, KmsClient)

OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()),
                           algorithm=hashes.SHA256(), label=None)


def main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    creds = BasicCredentials(ak=job['access_key'], sk=job['secret_key'],
                             project_id=job['project_id'])
    client = (KmsClient.new_builder()
              .with_http_config(HttpConfig.get_default_config())
              .with_credentials(creds)
              .with_endpoint(job['kms_endpoint'])
              .build())
    for key in job['keys']:
        with open(key['key_material_path'], 'rb') as f:
            material = f.read()
        params = client.create_parameters_for_import(CreateParametersForImportRequest(
            body=GetParametersForImportRequestBody(key_id=key['key_id'],
                                                   wrapping_algorithm='RSAES_OAEP_SHA_256')))
        public_key = serialization.load_der_public_key(base64.b64decode(params.public_key))
        wrapped = base64.b64encode(public_key.encrypt(material, OAEP_SHA256)).decode('ascii')
        client.import_key_material(ImportKeyMaterialRequest(body=ImportKeyMaterialRequestBody(
            key_id=key['key_id'], import_token=params.import_token,
            encrypted_key_material=wrapped)))
    print(json.dumps({'imported': len(job['keys'])}))


if __name__ == '__main__':
    main(sys.argv[1])
