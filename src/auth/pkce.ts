// PKCE (RFC 7636) with S256, and the random values of an authorization request.
import {createHash, randomBytes} from 'node:crypto'

/** 32 random bytes, base64url: 43 characters, inside RFC 7636's 43-128. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

export interface PkcePair {
  verifier: string
  challenge: string
  method: 'S256'
}

export function pkcePair(verifier = randomToken()): PkcePair {
  return {verifier, challenge: codeChallenge(verifier), method: 'S256'}
}
