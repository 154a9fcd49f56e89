/// The OpenAPI 3 document of the server's routes (API.md §3), served at `/v1/openapi.json`.
/// Written by scripts/openapi-document; Tests/Server checks every answer against it with
/// schemathesis.
enum OpenAPIDocument {
    static let text = #"""
{
 "openapi": "3.0.3",
 "info": {
  "title": "Lineup server",
  "version": "1",
  "description": "1:N identification of face-recognition templates (Faceprints) over HTTP: `lineup serve`. Errors answer {\"error\": {\"code\", \"message\"}} with the engine's ErrorCode name, or the server's own code (unauthorized, forbidden, notFound, methodNotAllowed, payloadTooLarge, overloaded)."
 },
 "servers": [
  {
   "url": "/"
  }
 ],
 "security": [
  {},
  {
   "bearer": []
  }
 ],
 "paths": {
  "/v1/health": {
   "get": {
    "operationId": "health",
    "summary": "Liveness; needs no token",
    "security": [],
    "responses": {
     "200": {
      "description": "The server is up",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "status"
         ],
         "properties": {
          "status": {
           "type": "string",
           "enum": [
            "ok"
           ]
          }
         }
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "summary": "Prometheus text exposition: requests and latencies per route, Faceprints per collection",
    "responses": {
     "200": {
      "description": "The metrics",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document",
    "responses": {
     "200": {
      "description": "The OpenAPI document",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/collections": {
   "get": {
    "operationId": "listCollections",
    "summary": "The names of every collection, sorted",
    "responses": {
     "200": {
      "description": "The names",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "collections"
         ],
         "additionalProperties": false,
         "properties": {
          "collections": {
           "type": "array",
           "items": {
            "type": "string"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   },
   "post": {
    "operationId": "createCollection",
    "summary": "Creates and loads a collection; an existing name is left unchanged",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/CreateCollection"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CollectionName"
        }
       }
      }
     },
     "200": {
      "description": "It existed; nothing changed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CollectionName"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "A read-only token on a route that writes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "The store is locked by another process, or the change conflicts",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "The body is over the server's limit",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/collections/{name}": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "description": "The collection's name, percent-encoded",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
     }
    }
   ],
   "get": {
    "operationId": "getCollection",
    "summary": "The collection's metadata (as `lineup info --json`)",
    "responses": {
     "200": {
      "description": "The metadata",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CollectionMetadata"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such collection or record",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   },
   "delete": {
    "operationId": "deleteCollection",
    "summary": "Deletes the collection and every Faceprint in it",
    "responses": {
     "200": {
      "description": "Deleted",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "deleted"
         ],
         "additionalProperties": false,
         "properties": {
          "deleted": {
           "type": "string"
          }
         }
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "A read-only token on a route that writes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such collection or record",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "The store is locked by another process, or the change conflicts",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/collections/{name}/identities": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "description": "The collection's name, percent-encoded",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
     }
    }
   ],
   "get": {
    "operationId": "getIdentities",
    "summary": "UUID to identity for every Faceprint",
    "responses": {
     "200": {
      "description": "The identities",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "identities"
         ],
         "additionalProperties": false,
         "properties": {
          "identities": {
           "type": "object",
           "additionalProperties": {
            "type": "string"
           }
          }
         }
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such collection or record",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/collections/{name}/faceprints": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "description": "The collection's name, percent-encoded",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
     }
    }
   ],
   "post": {
    "operationId": "enroll",
    "summary": "Enrolls one Faceprint or many (all or none); answers once durable",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "oneOf": [
         {
          "$ref": "#/components/schemas/Enrollment"
         },
         {
          "$ref": "#/components/schemas/Enrollments"
         }
        ]
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Enrolled and durable",
      "content": {
       "application/json": {
        "schema": {
         "oneOf": [
          {
           "type": "object",
           "required": [
            "uuid"
           ],
           "additionalProperties": false,
           "properties": {
            "uuid": {
             "$ref": "#/components/schemas/UUID"
            }
           }
          },
          {
           "type": "object",
           "required": [
            "uuids"
           ],
           "additionalProperties": false,
           "properties": {
            "uuids": {
             "type": "array",
             "items": {
              "$ref": "#/components/schemas/UUID"
             }
            }
           }
          }
         ]
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "A read-only token on a route that writes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such collection or record",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "The store is locked by another process, or the change conflicts",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "The body is over the server's limit",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/collections/{name}/faceprints/{uuid}": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "description": "The collection's name, percent-encoded",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
     }
    },
    {
     "name": "uuid",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "delete": {
    "operationId": "removeFaceprint",
    "summary": "Removes the Faceprint with this UUID",
    "responses": {
     "200": {
      "description": "Removed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Removed"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "A read-only token on a route that writes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such collection or record",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "The store is locked by another process, or the change conflicts",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/collections/{name}/identities/{identity}": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "description": "The collection's name, percent-encoded",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
     }
    },
    {
     "name": "identity",
     "in": "path",
     "required": true,
     "description": "The identity, percent-encoded",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 1024
     }
    }
   ],
   "delete": {
    "operationId": "removeIdentity",
    "summary": "Removes every Faceprint of the identity",
    "responses": {
     "200": {
      "description": "Removed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Removed"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "A read-only token on a route that writes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such collection or record",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "The store is locked by another process, or the change conflicts",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/collections/{name}/identify": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "description": "The collection's name, percent-encoded",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
     }
    }
   ],
   "post": {
    "operationId": "identify",
    "summary": "The best candidates for each probe, in order",
    "parameters": [
     {
      "name": "top",
      "in": "query",
      "description": "Candidates per probe (default 1); with a JSON body, the body's value wins",
      "schema": {
       "type": "integer",
       "minimum": 1
      }
     },
     {
      "name": "threshold",
      "in": "query",
      "description": "The lowest similarity returned (default 0.4)",
      "schema": {
       "type": "number"
      }
     },
     {
      "name": "distinct_identities",
      "in": "query",
      "description": "At most one candidate per identity (default false)",
      "schema": {
       "type": "boolean"
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/IdentifyRequest"
       }
      },
      "application/x-npy": {
       "schema": {
        "type": "string",
        "format": "binary",
        "description": "A .npy float32 array of shape (P, D), C order"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "One result per probe",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/IdentifyResults"
        }
       }
      }
     },
     "400": {
      "description": "Bad input: a malformed body or parameter, a vector the collection does not take",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or not one of the server's",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No such collection or record",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "The body is over the server's limit",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "Overloaded (Retry-After tells when to retry), or the store cannot take writes now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "With --token-file, every route but health needs a token; --read-only-token-file tokens may only read and identify"
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "additionalProperties": false,
    "properties": {
     "error": {
      "type": "object",
      "required": [
       "code",
       "message"
      ],
      "additionalProperties": false,
      "properties": {
       "code": {
        "type": "string"
       },
       "message": {
        "type": "string"
       }
      }
     }
    }
   },
   "UUID": {
    "type": "string",
    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
   },
   "CollectionName": {
    "type": "object",
    "required": [
     "name"
    ],
    "additionalProperties": false,
    "properties": {
     "name": {
      "type": "string"
     }
    }
   },
   "CreateCollection": {
    "type": "object",
    "required": [
     "name"
    ],
    "additionalProperties": false,
    "properties": {
     "name": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
     },
     "model": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
      "default": "TFV5_2"
     },
     "compression": {
      "type": "string",
      "enum": [
       "none",
       "fp16",
       "int8"
      ],
      "default": "none"
     }
    }
   },
   "CollectionMetadata": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "collection_name",
     "encrypted",
     "feature_vector_size_bytes",
     "model_name",
     "model_options",
     "num_faceprints",
     "num_identities"
    ],
    "properties": {
     "collection_name": {
      "type": "string"
     },
     "encrypted": {
      "type": "boolean"
     },
     "feature_vector_size_bytes": {
      "type": "integer",
      "minimum": 0
     },
     "model_name": {
      "type": "string"
     },
     "model_options": {
      "type": "string"
     },
     "num_faceprints": {
      "type": "integer",
      "minimum": 0
     },
     "num_identities": {
      "type": "integer",
      "minimum": 0
     }
    }
   },
   "FeatureVector": {
    "type": "array",
    "items": {
     "type": "number"
    },
    "minItems": 1,
    "maxItems": 4096
   },
   "Enrollment": {
    "type": "object",
    "required": [
     "identity",
     "feature_vector"
    ],
    "additionalProperties": false,
    "properties": {
     "identity": {
      "type": "string",
      "minLength": 1,
      "maxLength": 1024
     },
     "feature_vector": {
      "$ref": "#/components/schemas/FeatureVector"
     },
     "model_name": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255,
      "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
      "nullable": true,
      "description": "Defaults to the collection's model"
     },
     "model_options": {
      "type": "string",
      "nullable": true
     }
    }
   },
   "Enrollments": {
    "type": "object",
    "required": [
     "faceprints"
    ],
    "additionalProperties": false,
    "properties": {
     "faceprints": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Enrollment"
      }
     }
    }
   },
   "Removed": {
    "type": "object",
    "required": [
     "removed"
    ],
    "additionalProperties": false,
    "properties": {
     "removed": {
      "type": "integer",
      "minimum": 1
     }
    }
   },
   "IdentifyRequest": {
    "description": "Exactly one of feature_vector (one probe) and feature_vectors (several)",
    "oneOf": [
     {
      "type": "object",
      "required": [
       "feature_vector"
      ],
      "additionalProperties": false,
      "properties": {
       "feature_vector": {
        "$ref": "#/components/schemas/FeatureVector"
       },
       "top": {
        "type": "integer",
        "minimum": 1,
        "default": 1
       },
       "threshold": {
        "type": "number",
        "default": 0.4
       },
       "distinct_identities": {
        "type": "boolean",
        "default": false
       }
      }
     },
     {
      "type": "object",
      "required": [
       "feature_vectors"
      ],
      "additionalProperties": false,
      "properties": {
       "feature_vectors": {
        "type": "array",
        "items": {
         "$ref": "#/components/schemas/FeatureVector"
        }
       },
       "top": {
        "type": "integer",
        "minimum": 1,
        "default": 1
       },
       "threshold": {
        "type": "number",
        "default": 0.4
       },
       "distinct_identities": {
        "type": "boolean",
        "default": false
       }
      }
     }
    ]
   },
   "Candidate": {
    "type": "object",
    "required": [
     "uuid",
     "identity",
     "similarity",
     "match_probability"
    ],
    "additionalProperties": false,
    "properties": {
     "uuid": {
      "$ref": "#/components/schemas/UUID"
     },
     "identity": {
      "type": "string"
     },
     "similarity": {
      "type": "number"
     },
     "match_probability": {
      "type": "number",
      "minimum": 0,
      "maximum": 1
     }
    }
   },
   "IdentifyResults": {
    "type": "object",
    "required": [
     "results"
    ],
    "additionalProperties": false,
    "properties": {
     "results": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "candidates"
       ],
       "additionalProperties": false,
       "properties": {
        "candidates": {
         "type": "array",
         "items": {
          "$ref": "#/components/schemas/Candidate"
         }
        }
       }
      }
     }
    }
   }
  }
 }
}
"""#
}
